@testable import KubeIPCLI
import KubeIPConfig
import KubeIPCore
import KubeIPHTTP
import KubeIPSimulator
import Testing

/// Answers like the metadata services would: IMDSv2 only to a PUT with a TTL, GCE only with its flavor header.
struct MetadataDouble: HTTPClient {
    var aws = false
    var gcp = false
    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        if aws, request.method == "PUT", request.url.hasSuffix("/latest/api/token"),
           request.header("X-aws-ec2-metadata-token-ttl-seconds") != nil {
            return HTTPResponse(status: 200, body: Array("token".utf8))
        }
        if gcp, request.url.contains("/computeMetadata/v1/"), request.header("Metadata-Flavor") == "Google" {
            return HTTPResponse(status: 200, headers: [HTTPHeader("Metadata-Flavor", "Google")])
        }
        throw HTTPTransportError(url: request.url, reason: "connection refused", isTimeout: false)
    }
}

@Suite struct CloudDetectorTests {
    let env = ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9/", "GCE_METADATA_HOST": "127.0.0.1:9"]

    @Test func detectsAWS() async throws {
        #expect(try await CloudDetector(http: MetadataDouble(aws: true), environment: env).detect() == .aws)
    }

    @Test func detectsGCP() async throws {
        #expect(try await CloudDetector(http: MetadataDouble(gcp: true), environment: env).detect() == .gcp)
    }

    @Test func neitherNamesTheSetting() async {
        let clock = ManualClock(autoAdvance: true)
        let error = await #expect(throws: KubeIPError.self) {
            try await CloudDetector(http: MetadataDouble(), environment: env).detect(clock: clock)
        }
        #expect(error?.setting == "cloud")
        #expect(clock.sleeps == [.seconds(1), .seconds(1)])   // three tries, a second apart
        #expect(error?.message.contains("http://127.0.0.1:9") == true)
    }
}
