import KubeIPCore
import Testing
@testable import KubeIPSimulator

/// The GCE-like pool and identity: the swap as the claim, the round closed by the pool, release.
@Suite struct SimulatedComputeEnginePoolTests {
    /// A cloud with `vms` and the addresses edge-1.. (IPv4, env=prod) and edge-v6.
    static func world(_ vms: [String] = ["vm-1"], dualStack: Bool = false, statics: Int = 1) async -> SimulatedComputeEngine {
        let cloud = SimulatedComputeEngine()
        for vm in vms { await cloud.createInstance(vm, dualStack: dualStack) }
        for i in 0..<statics { await cloud.reserveAddress("edge-\(i + 1)", ip: "198.51.100.\(i + 1)", labels: ["env": "prod"]) }
        await cloud.reserveAddress("edge-v6", ip: "2001:db8:1:2::", family: .ipv6, labels: ["env": "prod"])
        return cloud
    }

    @Test func theIdentityIsShapedAsTheGCPAdapters() async throws {
        let cloud = await Self.world()
        let identity = try await cloud.adapter(for: "vm-1").identity.identity()
        #expect(identity.interfaceID == "projects/kubeip-demo/zones/europe-west1-b/instances/vm-1")
        #expect(identity.name == "vm-1")
        #expect(identity.project == "kubeip-demo")
        #expect(identity.zone == "europe-west1-b")
        let missing = await #expect(throws: KubeIPError.self) { try await cloud.adapter(for: "vm-9").identity.identity() }
        #expect(missing?.code == .identity)
    }

    @Test func attachingSwapsTheEphemeralForTheStaticAndReadsBackAsHeld() async throws {
        let cloud = await Self.world()
        let adapter = cloud.adapter(for: "vm-1", labels: ["env": "prod"])
        let me = try await adapter.identity.identity()
        let candidate = try #require(try await adapter.pool.addresses(family: .ipv4, for: me).first)
        #expect(candidate.isFree)
        #expect(candidate.fields["labels.env"] == "prod")
        try await adapter.pool.attach(candidate, to: me)
        #expect(await cloud.instance("vm-1")?.external[.ipv4]?.addressName == "edge-1")
        #expect(try await adapter.pool.address(id: "edge-1", family: .ipv4, for: me)?.isHeld(by: me) == true)
        // Attaching what it holds already changes nothing.
        try await adapter.pool.attach(candidate, to: me)
        #expect(await cloud.instance("vm-1")?.external[.ipv4]?.addressName == "edge-1")
    }

    @Test func anAddressTakenElsewhereOrGoneIsAConflictBeforeNic0IsTouched() async throws {
        let cloud = await Self.world(["vm-1", "vm-2"])
        let one = cloud.adapter(for: "vm-1", labels: ["env": "prod"])
        let two = cloud.adapter(for: "vm-2", labels: ["env": "prod"])
        let me1 = try await one.identity.identity(), me2 = try await two.identity.identity()
        let candidate = try #require(try await one.pool.addresses(family: .ipv4, for: me1).first)
        let before = await cloud.instance("vm-2")?.external[.ipv4]
        try await one.pool.attach(candidate, to: me1)
        let taken = await #expect(throws: KubeIPError.self) { try await two.pool.attach(candidate, to: me2) }
        #expect(taken?.code == .conflict)
        let gone = PoolAddress(id: "edge-9", ip: "198.51.100.9")
        let vanished = await #expect(throws: KubeIPError.self) { try await two.pool.attach(gone, to: me2) }
        #expect(vanished?.code == .conflict)
        #expect(await cloud.instance("vm-2")?.external[.ipv4] == before)
    }

    @Test func aRoundThatAttachedNothingPutsAnEphemeralBack() async throws {
        let cloud = await Self.world()
        let adapter = cloud.adapter(for: "vm-1")
        let me = try await adapter.identity.identity()
        // The round removed nic0's address, then lost its candidate.
        let none = try await adapter.pool.claimRound(family: .ipv4, for: me) {
            try await cloud.deleteAccessConfig(instance: "vm-1", family: .ipv4)
            return nil
        }
        #expect(none == nil)
        #expect(await cloud.instance("vm-1")?.external[.ipv4]?.isEphemeral == true)
        // The same when the round throws; its error comes out.
        await #expect(throws: KubeIPError.self) {
            _ = try await adapter.pool.claimRound(family: .ipv4, for: me) {
                try await cloud.deleteAccessConfig(instance: "vm-1", family: .ipv4)
                throw KubeIPError(.unavailable, "cut off")
            }
        }
        #expect(await cloud.instance("vm-1")?.external[.ipv4]?.isEphemeral == true)
    }

    @Test func releasingPutsAnEphemeralBackAndReservesTheAddress() async throws {
        let cloud = await Self.world()
        let adapter = cloud.adapter(for: "vm-1", labels: ["env": "prod"])
        let me = try await adapter.identity.identity()
        let candidate = try #require(try await adapter.pool.addresses(family: .ipv4, for: me).first)
        try await adapter.pool.attach(candidate, to: me)
        try await adapter.pool.detach(candidate, from: me)
        #expect(await cloud.instance("vm-1")?.external[.ipv4]?.isEphemeral == true)
        #expect(try await cloud.getAddress("edge-1").status == "RESERVED")
        // Detaching what it does not hold changes nothing.
        let kept = await cloud.instance("vm-1")?.external[.ipv4]
        try await adapter.pool.detach(candidate, from: me)
        #expect(await cloud.instance("vm-1")?.external[.ipv4] == kept)
    }

    @Test func fourVMsRacingForThreeAddressesLeaveOneOnAnEphemeralAndNoneBare() async throws {
        let vms = ["vm-a", "vm-b", "vm-c", "vm-d"]
        let cloud = SimulatedComputeEngine(latency: .milliseconds(5))
        for vm in vms { await cloud.createInstance(vm) }
        for i in 0..<3 { await cloud.reserveAddress("edge-\(i + 1)", ip: "198.51.100.\(i + 1)") }
        await withTaskGroup(of: Void.self) { group in
            for vm in vms {
                let engine = AddressEngine(cloud: cloud.adapter(for: vm), settings: EngineSettings(retryAttempts: 1))
                group.addTask { _ = try? await engine.acquire() }
            }
        }
        let configs = await cloud.allInstances().compactMap { $0.external[.ipv4] }
        #expect(configs.count == 4)
        #expect(configs.filter(\.isEphemeral).count == 1)
        #expect(Set(configs.map(\.ip)).count == 4)
        #expect(await cloud.allAddresses().allSatisfy { $0.status == "IN_USE" })
    }

    @Test func aDualStackVMHoldsBothFamilies() async throws {
        let cloud = await Self.world(dualStack: true)
        let engine = AddressEngine(cloud: cloud.adapter(for: "vm-1", labels: ["env": "prod"]),
                                   settings: EngineSettings(families: [.ipv4, .ipv6], retryAttempts: 1))
        let held = try await engine.acquire()
        #expect(held.map(\.address.id) == ["edge-1", "edge-v6"])
        let vm = try #require(await cloud.instance("vm-1"))
        #expect(vm.external[.ipv4]?.addressName == "edge-1")
        #expect(vm.external[.ipv6]?.addressName == "edge-v6")
    }

    @Test func anIPv4OnlyVMAskingForIPv6IsRefusedAndKeepsItsAddress() async throws {
        let cloud = await Self.world()
        let adapter = cloud.adapter(for: "vm-1", labels: ["env": "prod"])
        let me = try await adapter.identity.identity()
        let range = try #require(try await adapter.pool.addresses(family: .ipv6, for: me).first)
        let refused = await #expect(throws: KubeIPError.self) {
            _ = try await adapter.pool.claimRound(family: .ipv6, for: me) {
                try await adapter.pool.attach(range, to: me)
                return range
            }
        }
        #expect(refused?.code == .invalidSetting)
        #expect(await cloud.instance("vm-1")?.external[.ipv4]?.isEphemeral == true)
        #expect(await cloud.instance("vm-1")?.external[.ipv6] == nil)
    }
}
