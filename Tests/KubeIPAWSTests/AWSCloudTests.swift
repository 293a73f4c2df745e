import Foundation
import KubeIPCore
import KubeIPHTTP
import Logging
import Testing
@testable import KubeIPAWS

@Suite struct AWSCloudTests {
    @Test func aBadFilterFailsBeforeAnyCall() throws {
        let fake = FakeAWS()
        #expect(throws: KubeIPError.self) {
            try AWSCloud.make(filter: "tag:env=prod", region: nil, environment: [:], http: fake, logger: Logger(label: "t"))
        }
        #expect(fake.requests.isEmpty)
    }

    @Test func aBadEndpointOverrideIsAnInvalidSetting() {
        do {
            _ = try AWSCloud.make(filter: "", region: nil, environment: ["AWS_ENDPOINT_URL_EC2": "localhost:5000"],
                                  http: FakeAWS(), logger: Logger(label: "t"))
            Issue.record("expected an error")
        } catch let error as KubeIPError {
            #expect(error.code == .invalidSetting)
            #expect(error.setting == "AWS_ENDPOINT_URL_EC2")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func theRegionSettingWinsOverTheEnvironment() async throws {
        let fake = FakeAWS()
        let cloud = try AWSCloud.make(filter: "", region: "us-west-2",
                                      environment: ["AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDX",
                                                    "AWS_SECRET_ACCESS_KEY": "secret"],
                                      http: ScriptedHTTP { _, _ in xmlResponse(200, "<DescribeAddressesResponse><addressesSet/></DescribeAddressesResponse>") },
                                      clock: ManualClock(), random: FixedRandom(), readFile: { _ in nil }, logger: Logger(label: "t"))
        let identity = InstanceIdentity(cloud: "aws", instanceID: "i-1", region: "us-west-2", zone: "us-west-2a", interfaceID: "eni-1")
        #expect(try await cloud.pool.addresses(family: .ipv4, for: identity).isEmpty)
        #expect(cloud.name == "aws")
        _ = fake
    }

    @Test func stsAndEC2ShareTheRegionLearnedFromIMDS() async throws {
        let fake = AWSAddressPoolTests.fakeWithPool()
        let environment = ["AWS_WEB_IDENTITY_TOKEN_FILE": "/token", "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/kubeip"]
        let cloud = try AWSCloud.make(filter: "", region: nil, environment: environment, http: fake, clock: ManualClock(),
                                      random: FixedRandom(), readFile: { $0 == "/token" ? "jwt" : nil },
                                      logger: LogCapture().logger())
        let identity = try await cloud.identity.identity()
        _ = try await cloud.pool.addresses(family: .ipv4, for: identity)
        let urls = fake.requests.map(\.url)
        #expect(urls.filter { $0.hasPrefix("https://") } == ["https://sts.eu-west-1.amazonaws.com/", FakeAWS.ec2URL])
        #expect(urls.filter { $0.hasSuffix("/placement/region") }.count == 2) // the identity's, then the resolver's, once
    }

    /// A whole flow — web identity credentials from STS, identity from IMDS, claim, an expired
    /// token, verify, release — logged at trace level must show no secret, token or signature.
    @Test func logsNeverShowSecretsTokensOrSignatures() async throws {
        let capture = LogCapture()
        let logger = capture.logger()
        let fake = AWSAddressPoolTests.fakeWithPool()
        let webToken = "eyJraWQiOiJXRUJJREVOVElUWVRPS0VOIn0.payload-web-identity.sig"
        let environment = ["AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
                           "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/kubeip", "AWS_REGION": "eu-west-1"]
        let clock = ManualClock()
        let cloud = try AWSCloud.make(filter: "Name=tag:kubeip,Values=reserved", region: nil, environment: environment,
                                      http: fake, clock: clock, random: FixedRandom(),
                                      readFile: { $0 == environment["AWS_WEB_IDENTITY_TOKEN_FILE"] ? webToken : nil },
                                      logger: logger)
        let engine = AddressEngine(cloud: cloud, settings: EngineSettings(), clock: clock, random: FixedRandom(), logger: logger)
        try await engine.acquire()
        fake.withLock { $0.scriptedEC2 = [ec2Error(400, "ExpiredToken", "The security token included in the request is expired"),
                                          ec2Error(503, "RequestLimitExceeded", "Request limit exceeded.")] }
        try await engine.verify()
        fake.imdsReachable = false
        try await engine.release()

        // Instance-role flow too (IMDS credentials), including a permission error.
        let roleFake = AWSAddressPoolTests.fakeWithPool()
        roleFake.scriptedEC2 = [ec2Error(403, "UnauthorizedOperation", "You are not authorized to perform this operation.")]
        let roleCloud = try AWSCloud.make(filter: "", region: nil, environment: ["AWS_REGION": "eu-west-1"], http: roleFake,
                                          clock: clock, random: FixedRandom(), readFile: { _ in nil }, logger: logger)
        let roleEngine = AddressEngine(cloud: roleCloud, settings: EngineSettings(), clock: clock, random: FixedRandom(),
                                       logger: logger)
        await #expect(throws: KubeIPError.self) { try await roleEngine.acquire() }
        try await roleEngine.acquire()

        var secrets = [webToken, fake.stsCredentials.secret, fake.stsCredentials.token, fake.stsCredentials.key,
                       roleFake.roleCredentials.secret, roleFake.roleCredentials.token, roleFake.roleCredentials.key]
        secrets += fake.issuedIMDSTokens + roleFake.issuedIMDSTokens
        for request in fake.requests + roleFake.requests {
            if let authorization = request.header("Authorization") {
                secrets.append(authorization)
                if let signature = authorization.split(separator: "=").last { secrets.append(String(signature)) }
            }
        }
        let lines = capture.lines
        if ProcessInfo.processInfo.environment["SHOW_LOGS"] != nil { print(lines.joined(separator: "\n")) }
        #expect(lines.count > 20)
        #expect(lines.contains { $0.contains("action=AssociateAddress") && $0.contains("request_id=") })
        for secret in secrets {
            #expect(!secret.isEmpty)
            for line in lines where line.contains(secret) {
                Issue.record("a log line shows a secret: \(line)")
            }
        }
    }
}
