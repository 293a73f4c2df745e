import Foundation
import KubeIPCore
import KubeIPHTTP
import Testing
@testable import KubeIPAWS

@Suite struct EC2ClientTests {
    static let environment = ["AWS_ACCESS_KEY_ID": "AKIDEC2TEST", "AWS_SECRET_ACCESS_KEY": "ec2secret/0123456789abcdefghijklmnopqr"]

    static func client(_ http: any HTTPClient, clock: ManualClock = ManualClock(),
                       environment: [String: String] = EC2ClientTests.environment,
                       region: String? = "eu-west-1") -> EC2Client {
        let logger = LogCapture().logger()
        let imds = IMDSClient(http: http, clock: clock, random: FixedRandom(), logger: logger)
        let resolver = AWSRegionResolver(configured: region, imds: imds)
        let credentials = AWSCredentialsChain.standard(environment: environment, readFile: { _ in nil }, region: resolver,
                                                       imds: imds, http: http, clock: clock, random: FixedRandom(),
                                                       logger: logger)
        return EC2Client(environment: environment, region: resolver,
                         credentials: credentials, http: http, clock: clock, random: FixedRandom(), logger: logger)
    }

    static let okDescribe = xmlResponse(200, "<DescribeAddressesResponse><requestId>r</requestId><addressesSet/></DescribeAddressesResponse>")

    @Test func postsASignedFormToTheRegionalEndpoint() async throws {
        let http = ScriptedHTTP { _, _ in Self.okDescribe }
        _ = try await Self.client(http).call("DescribeAddresses", [("Filter.1.Name", "tag:env"), ("Filter.1.Value.1", "a b")])
        let request = try #require(http.requests.first)
        #expect(request.method == "POST")
        #expect(request.url == "https://ec2.eu-west-1.amazonaws.com/")
        #expect(String(decoding: request.body, as: UTF8.self)
                == "Action=DescribeAddresses&Version=2016-11-15&Filter.1.Name=tag%3Aenv&Filter.1.Value.1=a%20b")
        #expect(request.header("Content-Type") == "application/x-www-form-urlencoded; charset=utf-8")
        #expect(request.header("X-Amz-Date") == "20261127T160000Z")
        #expect(request.header("Host") == "ec2.eu-west-1.amazonaws.com")
        #expect(request.header("Authorization")?.hasPrefix(
            "AWS4-HMAC-SHA256 Credential=AKIDEC2TEST/20261127/eu-west-1/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=") == true)
    }

    @Test func endpointOverrides() {
        #expect(AWSEndpoints.ec2([:], region: "us-east-2") == "https://ec2.us-east-2.amazonaws.com/")
        #expect(AWSEndpoints.ec2([:], region: "cn-north-1") == "https://ec2.cn-north-1.amazonaws.com.cn/")
        #expect(AWSEndpoints.ec2(["AWS_ENDPOINT_URL": "http://127.0.0.1:5000"], region: "x") == "http://127.0.0.1:5000/")
        #expect(AWSEndpoints.ec2(["AWS_ENDPOINT_URL": "http://a:1", "AWS_ENDPOINT_URL_EC2": "http://b:2/"], region: "x")
                == "http://b:2/")
        #expect(AWSEndpoints.configuredRegion(setting: nil, environment: ["AWS_DEFAULT_REGION": "b", "AWS_REGION": "a"]) == "a")
        #expect(AWSEndpoints.configuredRegion(setting: "s", environment: ["AWS_REGION": "a"]) == "s")
        #expect(AWSEndpoints.configuredRegion(setting: "", environment: ["AWS_DEFAULT_REGION": "b"]) == "b")
    }

    @Test func learnsTheRegionFromIMDSWhenNoneIsConfigured() async throws {
        let fake = FakeAWS()
        fake.zone = "ap-southeast-2c"
        let http = ScriptedHTTP { request, _ in
            if request.url.hasPrefix("https://ec2.") { return Self.okDescribe }
            return try await fake.send(request)
        }
        let client = Self.client(http, region: nil)
        _ = try await client.call("DescribeAddresses", [])
        _ = try await client.call("DescribeAddresses", [])
        let ec2 = http.requests.filter { $0.url.hasPrefix("https://ec2.") }
        #expect(ec2.map(\.url) == ["https://ec2.ap-southeast-2.amazonaws.com/", "https://ec2.ap-southeast-2.amazonaws.com/"])
        #expect(http.requests.filter { $0.url.hasSuffix("placement/region") }.count == 1)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var response: HTTPResponse
        var code: KubeIPError.Code
        var action = "AssociateAddress"
        var testDescription: String { "\(action) \(response.status) \(response.text.prefix(80))" }
    }

    @Test(arguments: [
        Case(response: ec2Error(503, "RequestLimitExceeded", "Request limit exceeded."), code: .throttled),
        Case(response: ec2Error(400, "Throttling", "Rate exceeded"), code: .throttled),
        Case(response: ec2Error(400, "ThrottlingException", "Rate exceeded"), code: .throttled),
        Case(response: ec2Error(500, "InternalError", "An internal error has occurred"), code: .unavailable),
        Case(response: ec2Error(503, "Unavailable", "The server is overloaded"), code: .unavailable),
        Case(response: HTTPResponse(status: 502, body: Array("<html>bad gateway</html>".utf8)), code: .unavailable),
        Case(response: HTTPResponse(status: 500, body: Array("<!doctype html><title>500 Internal Server Error</title>".utf8)), code: .unavailable),
        Case(response: ec2Error(401, "AuthFailure", "AWS was not able to validate the provided access credentials"), code: .authentication),
        Case(response: ec2Error(400, "InvalidClientTokenId", "The security token included in the request is invalid."), code: .authentication),
        Case(response: ec2Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match"), code: .authentication),
        Case(response: ec2Error(400, "ExpiredToken", "The security token included in the request is expired"), code: .authentication),
        Case(response: ec2Error(400, "IncompleteSignature", "x"), code: .authentication),
        Case(response: ec2Error(400, "MissingAuthenticationToken", "x"), code: .authentication),
        Case(response: ec2Error(403, "UnauthorizedOperation", "You are not authorized to perform this operation."), code: .permissionDenied),
        Case(response: ec2Error(403, "AccessDenied", "User is not authorized"), code: .permissionDenied),
        Case(response: ec2Error(400, "AccessDeniedException", "no"), code: .permissionDenied),
        Case(response: ec2Error(400, "Resource.AlreadyAssociated", "resource eipalloc-1 is already associated"), code: .conflict),
        Case(response: ec2Error(400, "InvalidAllocationID.NotFound", "The allocation ID 'eipalloc-1' does not exist"), code: .notFound),
        Case(response: ec2Error(400, "InvalidAssociationID.NotFound", "The association ID does not exist"), code: .notFound),
        Case(response: ec2Error(400, "InvalidParameterValue", "The filter 'bogus' is invalid"), code: .invalidSetting,
             action: "DescribeAddresses"),
        Case(response: ec2Error(400, "InvalidFilter", "The filter is invalid"), code: .invalidSetting, action: "DescribeAddresses"),
        // AssociateAddress takes no filter: whatever the message says, it is not about the filter setting.
        Case(response: ec2Error(400, "InvalidParameterValue", "The filter 'bogus' is invalid"), code: .cloudAPI),
        Case(response: ec2Error(400, "Gateway.NotAttached", "Network vpc-1 is not attached to any internet gateway"),
             code: .cloudAPI),
        Case(response: ec2Error(400, "InvalidParameterValue", "Value (x) for parameter allocationId is invalid"), code: .cloudAPI),
        Case(response: ec2Error(400, "OperationNotPermitted", "nope"), code: .cloudAPI),
    ])
    func mapsEC2Errors(_ testCase: Case) async throws {
        let clock = ManualClock()
        let http = ScriptedHTTP { _, _ in testCase.response }
        do {
            _ = try await Self.client(http, clock: clock).call(testCase.action, [])
            Issue.record("expected an error")
        } catch let error as KubeIPError {
            #expect(error.code == testCase.code)
            if testCase.code == .invalidSetting { #expect(error.setting == "filter") }
            if testCase.code == .permissionDenied {
                #expect(error.resource == "ec2:\(testCase.action)")
                #expect(error.message.hasPrefix("AWS refused ec2:\(testCase.action): "))
                #expect(error.message.hasSuffix("; grant it in the instance role's policy"))
            }
            // Only throttling and transient failures are retried (8 times by default).
            #expect(http.requests.count == (error.isRetryable ? 9 : 1))
        }
    }

    @Test func retriesThrottlingWithCappedExponentialBackoff() async throws {
        let clock = ManualClock()
        let http = ScriptedHTTP { request, index in
            index < 3 ? ec2Error(503, "RequestLimitExceeded", "Request limit exceeded.") : Self.okDescribe
        }
        _ = try await Self.client(http, clock: clock).call("DescribeAddresses", [])
        #expect(http.requests.count == 4)
        // Equal jitter with random 0.5: 3/4 of 200 ms, 400 ms, 800 ms.
        #expect(clock.sleeps == [.milliseconds(150), .milliseconds(300), .milliseconds(600)])
        // Each retry is signed again at the clock's time (1.05 s later for the last one).
        #expect(http.requests.compactMap { $0.header("X-Amz-Date") }
                == ["20261127T160000Z", "20261127T160000Z", "20261127T160000Z", "20261127T160001Z"])
    }

    @Test func transportErrorsAreUnavailableAndRetried() async throws {
        let clock = ManualClock()
        let http = ScriptedHTTP { request, index in
            if index == 0 { throw HTTPTransportError(url: request.url, reason: "Operation timed out", isTimeout: true) }
            return Self.okDescribe
        }
        _ = try await Self.client(http, clock: clock).call("DescribeAddresses", [])
        #expect(http.requests.count == 2)

        let down = ScriptedHTTP { request, _ in throw HTTPTransportError(url: request.url, reason: "Connection refused", isTimeout: false) }
        do {
            _ = try await Self.client(down, clock: clock).call("DescribeAddresses", [])
        } catch let error as KubeIPError {
            #expect(error.code == .unavailable)
            #expect(error.message == "cannot reach EC2 at https://ec2.eu-west-1.amazonaws.com: Connection refused")
        }
    }

    @Test func rejectedTemporaryCredentialsAreFetchedAgainOnce() async throws {
        let fake = FakeAWS() // the instance role's temporary credentials
        let http = ScriptedHTTP { request, _ in
            guard request.url.hasPrefix("https://ec2.") else { return try await fake.send(request) }
            if request.header("Authorization")?.contains("Credential=ASIAROLEKEY000000001/") == true {
                // Revoked early: the role now hands out new credentials.
                fake.withLock { $0.roleCredentials.key = "ASIAROLEKEY000000002" }
                return ec2Error(400, "ExpiredToken", "The security token included in the request is expired")
            }
            return Self.okDescribe
        }
        _ = try await Self.client(http, environment: [:]).call("DescribeAddresses", [])
        let ec2 = http.requests.filter { $0.url.hasPrefix("https://ec2.") }
        #expect(ec2.count == 2)
        #expect(ec2.last?.header("Authorization")?.contains("Credential=ASIAROLEKEY000000002/") == true)

        // Rejected again with fresh credentials: an authentication error, no loop.
        let always = ScriptedHTTP { request, _ in
            guard request.url.hasPrefix("https://ec2.") else { return try await fake.send(request) }
            return ec2Error(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
        }
        await #expect(throws: KubeIPError.self) { try await Self.client(always, environment: [:]).call("DescribeAddresses", []) }
        #expect(always.requests.filter { $0.url.hasPrefix("https://ec2.") }.count == 2)
    }

    @Test func scrubsCredentialMaterialFromErrorMessages() {
        let credentials = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "supersecretvalue", sessionToken: "tokentokentoken")
        #expect(EC2Client.scrub("echo supersecretvalue and tokentokentoken", credentials) == "echo <redacted> and <redacted>")
    }
}

