import Foundation
import KubeIPCore
import KubeIPHTTP
import Testing
@testable import KubeIPTestSupport

/// The metadata server: the header rule, the paths kubeip reads, the token.
@Suite struct ComputeEngineDoubleMetadataTests {
    @Test func everyRequestNeedsMetadataFlavorGoogle() async throws {
        let world = await GCEWorld()
        let missing = try await world.metadata("instance/id", flavor: nil)
        #expect(missing.status == 403)
        #expect(missing.header("Metadata-Flavor") == "Google")
        #expect(try await world.metadata("instance/id", flavor: "google").status == 403)
        let token = try await world.metadata("instance/service-accounts/default/token", flavor: nil)
        #expect(token.status == 403)
        #expect(!token.text.contains("ya29"))
    }

    @Test func answersCarryMetadataFlavorAndTextValues() async throws {
        let world = await GCEWorld()
        let instance = try #require(await world.double.instance("vm-1"))
        let id = try await world.metadata("instance/id")
        #expect(id.status == 200)
        #expect(id.header("Metadata-Flavor") == "Google")
        #expect(id.text == instance.id)
        #expect(try await world.metadata("instance/name").text == "vm-1")
        #expect(try await world.metadata("instance/zone").text == "projects/271828182845/zones/europe-west1-b")
        #expect(try await world.metadata("project/project-id").text == "kubeip-sim")
        #expect(try await world.metadata("project/numeric-project-id").text == "271828182845")
        #expect(try await world.metadata("instance/network-interfaces/0/access-configs/0/external-ip").text
                == instance.nic0.accessConfigs.first?.natIP)
        let root = try await world.vm.send(HTTPRequest(url: "http://metadata.google.internal/computeMetadata/v1/",
                                                       headers: [HTTPHeader("Metadata-Flavor", "Google")]))
        #expect(root.status == 200)
    }

    @Test func theExternalIPFollowsTheAccessConfigAnd404sWithoutOne() async throws {
        let world = await GCEWorld()
        let (_, delete) = try await world.deleteAccessConfig()
        _ = try await world.operation(try #require(delete["name"]?.stringValue))
        let path = "instance/network-interfaces/0/access-configs/0/external-ip"
        #expect(try await world.metadata(path).status == 404)
        await world.double.reserveAddress(name: "a", ip: "34.76.1.10")
        await world.double.attachAddress("a", to: "vm-1")
        #expect(try await world.metadata(path).text == "34.76.1.10")
    }

    @Test func unknownPathsVerbsAndParametersAreRefused() async throws {
        let world = await GCEWorld()
        #expect(try await world.metadata("instance/nothing").status == 404)
        #expect(try await world.metadata("instance/id?recursive=true").status == 400)
        let post = try await world.vm.send(HTTPRequest(method: "POST", url: "http://metadata.google.internal/computeMetadata/v1/instance/id",
                                                       headers: [HTTPHeader("Metadata-Flavor", "Google")]))
        #expect(post.status == 405)
        let forwarded = try await world.vm.send(HTTPRequest(
            url: "http://metadata.google.internal/computeMetadata/v1/instance/id",
            headers: [HTTPHeader("Metadata-Flavor", "Google"), HTTPHeader("X-Forwarded-For", "10.0.0.1")]))
        #expect(forwarded.status == 403)
        let https = try? await world.vm.send(HTTPRequest(url: "https://metadata.google.internal/computeMetadata/v1/instance/id",
                                                         headers: [HTTPHeader("Metadata-Flavor", "Google")]))
        #expect(https == nil)
    }

    @Test func theTokenIsJSONAndOpensTheComputeAPI() async throws {
        let world = await GCEWorld()
        let response = try await world.metadata("instance/service-accounts/default/token")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/json")
        let json = try JSONValue(parsing: response.body)
        #expect(json["token_type"] == "Bearer")
        #expect(json["expires_in"]?.intValue == 3599)
        let token = try #require(json["access_token"]?.stringValue)
        #expect(try await world.compute("GET", "zones/europe-west1-b/instances/vm-1", token: token).status == 200)
    }

    @Test func theTokenIsCachedUntilItNearsExpiry() async throws {
        let world = await GCEWorld()
        let path = "instance/service-accounts/default/token"
        let first = try JSONValue(parsing: try await world.metadata(path).body)
        world.clock.advance(by: .seconds(1000))
        let second = try JSONValue(parsing: try await world.metadata(path).body)
        #expect(first["access_token"] == second["access_token"])
        #expect(second["expires_in"]?.intValue == 2600)
        world.clock.advance(by: .seconds(2400))
        let third = try JSONValue(parsing: try await world.metadata(path).body)
        #expect(third["access_token"] != first["access_token"])
    }

    @Test func aVMWithoutAServiceAccountHasNoToken() async throws {
        let world = await GCEWorld()
        await world.double.createInstance(name: "bare", serviceAccountScopes: nil)
        let response = try await world.metadata("instance/service-accounts/default/token", client: world.double.client(for: "bare"))
        #expect(response.status == 404)
    }

    @Test func scopesOfTheVMBoundItsToken() async throws {
        let world = await GCEWorld()
        await world.double.createInstance(name: "reader", serviceAccountScopes: [ComputeEngineDouble.computeReadOnlyScope])
        let reader = world.double.client(for: "reader")
        let json = try JSONValue(parsing: try await world.metadata("instance/service-accounts/default/token", client: reader).body)
        let token = try #require(json["access_token"]?.stringValue)
        #expect(try await world.compute("GET", "regions/europe-west1/addresses", token: token, client: reader).status == 200)
        let (status, _) = try await world.addAccessConfig("reader", token: token, client: reader)
        #expect(status == 403)
    }
}
