import Foundation
import KubeIPCore
import KubeIPHTTP
import Testing
@testable import KubeIPAWS

@Suite struct IMDSClientTests {
    func client(_ http: any HTTPClient, clock: ManualClock = ManualClock(),
                endpoint: String = FakeAWS.imdsHost) -> IMDSClient {
        IMDSClient(endpoint: endpoint, http: http, clock: clock, random: FixedRandom(), logger: LogCapture().logger())
    }

    @Test func usesIMDSv2SessionTokensOnEveryRead() async throws {
        let fake = FakeAWS()
        let imds = client(fake)
        #expect(try await imds.instanceID() == "i-0123456789abcdef0")
        #expect(try await imds.availabilityZone() == "eu-west-1b")
        #expect(try await imds.region() == "eu-west-1")
        let requests = fake.requests
        #expect(requests.first?.method == "PUT")
        #expect(requests.first?.url == "http://169.254.169.254/latest/api/token")
        #expect(requests.first?.header("X-aws-ec2-metadata-token-ttl-seconds") == "21600")
        #expect(requests.count == 4) // one token, three reads
        for get in requests.dropFirst() {
            #expect(get.method == "GET")
            #expect(get.header("X-aws-ec2-metadata-token") == fake.issuedIMDSTokens.first)
            #expect(get.timeout <= .seconds(2))
        }
    }

    @Test func findsThePrimaryInterfaceByDeviceNumber() async throws {
        let fake = FakeAWS()
        #expect(try await client(fake).primaryInterfaceID() == "eni-primary")
    }

    @Test func thePrimaryInterfaceIsOnNetworkCardZero() async throws {
        let fake = FakeAWS()
        // A multi-card instance: each card numbers its devices from 0, and IMDS may list card 1 first.
        fake.interfaces = [Interface(mac: "0e:00:00:00:00:03", device: 0, id: "eni-card1", card: 1),
                           Interface(mac: "0e:00:00:00:00:02", device: 1, id: "eni-secondary", card: 0),
                           Interface(mac: "0e:00:00:00:00:01", device: 0, id: "eni-primary", card: 0)]
        #expect(try await client(fake).primaryInterfaceID() == "eni-primary")
        #expect(fake.requests.contains { $0.url.hasSuffix("/macs/0e:00:00:00:00:03/network-card") })

        fake.interfaces = [Interface(mac: "0e:00:00:00:00:03", device: 0, id: "eni-card1", card: 1)]
        do {
            _ = try await client(fake).primaryInterfaceID()
            Issue.record("expected an error")
        } catch let error as KubeIPError {
            #expect(error.code == .identity)
            #expect(error.message == "the instance metadata lists 1 network interface(s) but none with device-number 0 on network card 0")
        }
    }

    typealias Interface = FakeAWS.Interface

    @Test func renewsTheTokenBeforeItExpires() async throws {
        let fake = FakeAWS()
        let clock = ManualClock()
        let imds = client(fake, clock: clock)
        _ = try await imds.instanceID()
        clock.advance(by: 6 * 3600 - 600) // 10 minutes left: still fine
        _ = try await imds.instanceID()
        #expect(fake.issuedIMDSTokens.count == 1)
        clock.advance(by: 400)             // under 5 minutes left: renew first
        _ = try await imds.instanceID()
        #expect(fake.issuedIMDSTokens.count == 2)
        #expect(fake.requests.last?.header("X-aws-ec2-metadata-token") == fake.issuedIMDSTokens[1])
    }

    @Test func fetchesANewTokenOnceOnA401() async throws {
        let fake = FakeAWS()
        let imds = client(fake)
        _ = try await imds.instanceID()
        fake.revokeIMDSTokens()
        #expect(try await imds.availabilityZone() == "eu-west-1b")
        #expect(fake.issuedIMDSTokens.count == 2)
    }

    @Test func aPersistent401IsAnIdentityErrorAfterOneRenewal() async throws {
        let http = ScriptedHTTP { request, _ in
            request.method == "PUT" ? HTTPResponse(status: 200, body: Array("tok".utf8)) : HTTPResponse(status: 401)
        }
        await #expect(throws: KubeIPError.self) { try await client(http).instanceID() }
        #expect(http.requests.map(\.method) == ["PUT", "GET", "PUT", "GET"])
    }

    @Test func retriesTransientFailuresWithBackoffOnTheInjectedClock() async throws {
        let clock = ManualClock()
        let http = ScriptedHTTP { request, index in
            if index < 2 { throw HTTPTransportError(url: request.url, reason: "Connection refused", isTimeout: false) }
            if index == 2 { return HTTPResponse(status: 503) }
            return request.method == "PUT" ? HTTPResponse(status: 200, body: Array("tok".utf8))
                                           : HTTPResponse(status: 200, body: Array("i-1".utf8))
        }
        // Backoff allows 2 retries per request: the token PUT fails twice then gets a 503... and gives up.
        let failing = client(http, clock: clock)
        await #expect(throws: KubeIPError.self) { try await failing.instanceID() }
        #expect(clock.sleeps.count == 2)
        // A fresh client: the next PUT succeeds.
        #expect(try await client(http, clock: clock).instanceID() == "i-1")
    }

    @Test func anUnreachableServiceNamesTheEndpoint() async throws {
        let fake = FakeAWS()
        fake.imdsReachable = false
        let clock = ManualClock()
        do {
            _ = try await client(fake, clock: clock).instanceID()
            Issue.record("expected an error")
        } catch let error as KubeIPError {
            #expect(error.code == .identity)
            #expect(error.message.hasPrefix("cannot reach the EC2 instance metadata service at http://169.254.169.254: "))
            #expect(error.message.contains("Connection timed out"))
            #expect(error.message.hasSuffix("(IMDS did not answer within 2 s; if this runs in a container, the IMDS hop limit may be 1)"))
        }
        #expect(fake.requests.count == 3) // first try + 2 retries
        #expect(clock.sleeps == [.milliseconds(150), .milliseconds(300)])
    }

    @Test func readsTheInstanceRoleCredentials() async throws {
        let fake = FakeAWS()
        let credentials = try #require(try await client(fake).instanceRoleCredentials())
        #expect(credentials.accessKeyID == fake.roleCredentials.key)
        #expect(credentials.secretAccessKey == fake.roleCredentials.secret)
        #expect(credentials.sessionToken == fake.roleCredentials.token)
        #expect(credentials.expiration.map(UTCTime.iso8601) == "2026-11-27T22:00:00Z")
        fake.roleName = nil
        #expect(try await client(fake).instanceRoleCredentials() == nil)
    }

    @Test func roleCredentialsTellAnOutageFromAnAbsentService() async throws {
        let fake = FakeAWS()
        fake.imdsReachable = false
        do {
            _ = try await client(fake).instanceRoleCredentials()
            Issue.record("expected an error")
        } catch let error as KubeIPError {
            #expect(error.code == .unavailable)
        }
        fake.imdsReachable = true
        fake.imdsRefusesConnections = true
        do {
            _ = try await client(fake).instanceRoleCredentials()
            Issue.record("expected an error")
        } catch let error as KubeIPError {
            #expect(error.code == .identity)
            #expect(!error.message.contains("hop limit"))
        }
        #expect(IMDSClient.seconds(.seconds(2)) == "2 s")
        #expect(IMDSClient.seconds(.milliseconds(500)) == "500 ms")
    }

    @Test func regionFromZoneWhenIMDSLacksPlacementRegion() {
        #expect(IMDSClient.region(ofZone: "eu-west-1a") == "eu-west-1")
        #expect(IMDSClient.region(ofZone: "us-gov-west-1b") == "us-gov-west-1")
        #expect(IMDSClient.region(ofZone: "us-west-2-lax-1a") == "us-west-2")
        #expect(IMDSClient.region(ofZone: "nonsense") == nil)
    }

    @Test func endpointComesFromTheEnvironment() {
        #expect(IMDSClient.endpoint(environment: [:]) == "http://169.254.169.254")
        #expect(IMDSClient.endpoint(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1338/"])
                == "http://127.0.0.1:1338")
    }
}
