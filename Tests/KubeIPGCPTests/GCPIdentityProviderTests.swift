import KubeIPCore
import KubeIPSimulator
import Testing
@testable import KubeIPGCP

@Suite struct GCPIdentityProviderTests {
    @Test func identityFromMetadataWithOverrides() async throws {
        let client = GCEMetadataClient(http: GCEMetadataClientTests.server(GCEMetadataClientTests.values), clock: ManualClock(autoAdvance: true))
        let identity = try await GCPIdentityProvider(metadata: client).identity()
        #expect(identity == InstanceIdentity(cloud: "gcp", instanceID: "4520031799270013001", region: "europe-west1",
                                             zone: "europe-west1-b",
                                             interfaceID: "projects/kubeip-prod/zones/europe-west1-b/instances/edge-1",
                                             project: "kubeip-prod", name: "edge-1"))
        let overridden = try await GCPIdentityProvider(metadata: client, project: "shared", region: "europe-west9").identity()
        #expect(overridden.project == "shared")
        #expect(overridden.region == "europe-west9")
        #expect(overridden.interfaceID == "projects/shared/zones/europe-west1-b/instances/edge-1")
    }

    @Test func identityThroughTheDoublesMetadataServer() async throws {
        let world = GCEWorld()
        let vm = await world.double.createInstance(name: "vm-9", zone: "europe-west1-d")
        let identity = try await world.adapter("vm-9").identity.identity()
        #expect(identity.instanceID == vm.id)
        #expect(identity.zone == "europe-west1-d")
        #expect(identity.region == "europe-west1")
        #expect(identity.interfaceID == "projects/kubeip-sim/zones/europe-west1-d/instances/vm-9")
        #expect(identity.name == "vm-9")
        // Four metadata reads, no Compute call.
        #expect(await world.double.requests.map(\.service) == [.metadata, .metadata, .metadata, .metadata])
    }
}
