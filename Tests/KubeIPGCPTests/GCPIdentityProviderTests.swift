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
        // Settings naming the VM's own project (by id or number) and region are accepted.
        for project in ["kubeip-prod", "123456789012"] {
            let confirmed = try await GCPIdentityProvider(metadata: client, project: project, region: "europe-west1").identity()
            #expect(confirmed == identity)
        }
        // Another project or region cannot hold the VM's static IP.
        await #expect {
            try await GCPIdentityProvider(metadata: client, project: "shared").identity()
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .invalidSetting && error?.setting == "project"
                && error?.message.contains("the VM is in kubeip-prod; a static external IP must be in the VM's project and region") == true
        }
        await #expect {
            try await GCPIdentityProvider(metadata: client, region: "europe-west9").identity()
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .invalidSetting && error?.setting == "region"
                && error?.message.contains("the VM is in europe-west1") == true
        }
    }

    @Test func aProjectOrRegionOtherThanTheVMsFailsBeforeAnyComputeCall() async throws {
        let world = GCEWorld()
        await world.double.reserveAddress(name: "edge-a", ip: "35.200.0.1", labels: ["kubeip": "reserved"])
        await world.double.createInstance(name: "vm-1")
        let before = await world.double.accessConfigs(of: "vm-1")
        for (project, region, setting) in [("other-project", nil, "project"), (nil, "us-central1", "region")] {
            await #expect {
                try await world.engine("vm-1", project: project, region: region).acquire()
            } throws: { error in
                let error = error as? KubeIPError
                return error?.code == .invalidSetting && error?.setting == setting && error?.exitCode == 78
            }
        }
        #expect(await world.computeCalls().isEmpty)
        #expect(await world.double.accessConfigs(of: "vm-1") == before)
        // The VM's own project and region, spelled out, work; the instance path is the metadata server's.
        let held = try await world.engine("vm-1", project: "kubeip-sim", region: "europe-west1").acquire()
        #expect(held.first?.address.id == "edge-a")
        let paths = await world.double.requests.filter { $0.service == .compute }.map(\.path)
        #expect(paths.contains("projects/kubeip-sim/zones/europe-west1-b/instances/vm-1"))
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
