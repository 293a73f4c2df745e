import Foundation
import KubeIPCore
import KubeIPHTTP
import KubeIPSimulator
import Testing
@testable import KubeIPGCP

@Suite struct GCEMetadataClientTests {
    static func server(_ values: [String: String]) -> ScriptedHTTP {
        ScriptedHTTP { request in
            guard request.header("Metadata-Flavor") == "Google" else { return metadataAnswer("", status: 403) }
            let prefix = "/computeMetadata/v1/"
            guard request.path.hasPrefix(prefix), let value = values[String(request.path.dropFirst(prefix.count))] else {
                return metadataAnswer("not found", status: 404)
            }
            return metadataAnswer(value)
        }
    }

    static let values = [
        "project/project-id": "kubeip-prod", "instance/id": "4520031799270013001", "instance/name": "edge-1",
        "instance/zone": "projects/123456789012/zones/europe-west1-b",
        "instance/network-interfaces/0/access-configs/0/external-ip": "34.1.2.3",
    ]

    @Test func readsIdentityFieldsWithTheFlavorHeader() async throws {
        let http = Self.server(Self.values)
        let client = GCEMetadataClient(endpoint: "http://169.254.169.254", http: http, clock: ManualClock(autoAdvance: true))
        #expect(try await client.projectID() == "kubeip-prod")
        #expect(try await client.instanceID() == "4520031799270013001")
        #expect(try await client.instanceName() == "edge-1")
        #expect(try await client.zone() == "europe-west1-b")
        #expect(try await client.externalIP() == "34.1.2.3")
        #expect(http.requests.allSatisfy { $0.header("Metadata-Flavor") == "Google" && $0.method == "GET" })
        #expect(http.requests.allSatisfy { $0.timeout <= .seconds(2) })
        #expect(http.requests[0].url == "http://169.254.169.254/computeMetadata/v1/project/project-id")
    }

    @Test func noExternalIPIsNil() async throws {
        var values = Self.values
        values["instance/network-interfaces/0/access-configs/0/external-ip"] = nil
        let client = GCEMetadataClient(http: Self.server(values), clock: ManualClock(autoAdvance: true))
        #expect(try await client.externalIP() == nil)
    }

    @Test(arguments: [("europe-west1-b", "europe-west1"), ("us-central1-a", "us-central1"),
                      ("northamerica-northeast2-c", "northamerica-northeast2"), ("ai-1", "ai")])
    func regionIsTheZoneWithoutItsLastPart(zone: String, region: String) {
        #expect(GCEMetadataClient.region(ofZone: zone) == region)
    }

    @Test func endpointFromTheEnvironment() throws {
        #expect(try GCEMetadataClient.endpoint(environment: [:]) == "http://metadata.google.internal")
        #expect(try GCEMetadataClient.endpoint(environment: ["GCE_METADATA_HOST": "127.0.0.1:8080"]) == "http://127.0.0.1:8080")
        #expect(throws: KubeIPError.invalid("GCE_METADATA_HOST", "expected a host or host:port such as 169.254.169.254 or 127.0.0.1:8080, got 'http://x/'")) {
            try GCEMetadataClient.endpoint(environment: ["GCE_METADATA_HOST": "http://x/"])
        }
    }

    @Test func unreachableRetriesBrieflyOnTheInjectedClockThenIsAnIdentityError() async throws {
        let http = ScriptedHTTP { _ in throw transportTimeout }
        let clock = ManualClock(autoAdvance: true)
        let client = GCEMetadataClient(http: http, clock: clock, random: FixedRandom())
        await #expect {
            try await client.instanceID()
        } throws: { error in
            (error as? KubeIPError)?.code == .identity && (error as? KubeIPError)?.message.contains("cannot reach the GCE metadata server") == true
        }
        #expect(http.requests.count == 3)
        #expect(clock.sleeps.count == 2)
        #expect(clock.elapsed < .seconds(2))
    }

    @Test func anAnswerWithoutTheFlavorIsNotTheMetadataServer() async throws {
        let http = ScriptedHTTP { _ in HTTPResponse(status: 200, body: Array("edge-1".utf8)) }
        let client = GCEMetadataClient(http: http, clock: ManualClock(autoAdvance: true))
        await #expect {
            try await client.instanceName()
        } throws: { error in
            (error as? KubeIPError)?.message.contains("not the GCE metadata server") == true
        }
    }
}
