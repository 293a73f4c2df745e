import KubeIPCore
import Testing
@testable import KubeIPSimulator

/// The GCE-like in-memory cloud: nic0's access configs, ephemeral addresses and IN_USE refusals.
@Suite struct SimulatedComputeEngineTests {
    @Test func aVMBootsWithAnEphemeralIPv4AndADualStackOneWithAnIPv6RangeToo() async throws {
        let cloud = SimulatedComputeEngine()
        let single = await cloud.createInstance("vm-1")
        let dual = await cloud.createInstance("vm-2", dualStack: true)
        #expect(single.external[.ipv4]?.isEphemeral == true)
        #expect(single.external[.ipv6] == nil)
        #expect(dual.external[.ipv4]?.isEphemeral == true)
        #expect(dual.external[.ipv6]?.isEphemeral == true)
        let ips = [single.external[.ipv4], dual.external[.ipv4], dual.external[.ipv6]].compactMap { $0?.ip }
        #expect(Set(ips).count == 3)
        #expect(single.id != dual.id)
        #expect(await cloud.allInstances().map(\.name) == ["vm-1", "vm-2"])
    }

    @Test func aStaticAddressGoesOnOnlyOnceTheCurrentAccessConfigIsRemoved() async throws {
        let cloud = SimulatedComputeEngine()
        await cloud.createInstance("vm-1")
        await cloud.reserveAddress("edge-1", ip: "198.51.100.1")
        let refused = await #expect(throws: KubeIPError.self) {
            try await cloud.addAccessConfig(instance: "vm-1", family: .ipv4, ip: "198.51.100.1")
        }
        #expect(refused?.code == .conflict)
        #expect(try await cloud.getAddress("edge-1").status == "RESERVED")

        try await cloud.deleteAccessConfig(instance: "vm-1", family: .ipv4)
        #expect(await cloud.instance("vm-1")?.external[.ipv4] == nil)
        try await cloud.addAccessConfig(instance: "vm-1", family: .ipv4, ip: "198.51.100.1")
        #expect(await cloud.instance("vm-1")?.external[.ipv4] == .init(ip: "198.51.100.1", addressName: "edge-1"))
        let address = try await cloud.getAddress("edge-1")
        #expect(address.status == "IN_USE")
        #expect(address.user == "vm-1")
    }

    @Test func anAddressInUseByAnotherVMIsRefusedAndNothingChanges() async throws {
        let cloud = SimulatedComputeEngine()
        await cloud.createInstance("vm-1")
        await cloud.createInstance("vm-2")
        await cloud.reserveAddress("edge-1", ip: "198.51.100.1")
        try await cloud.deleteAccessConfig(instance: "vm-1", family: .ipv4)
        try await cloud.addAccessConfig(instance: "vm-1", family: .ipv4, ip: "198.51.100.1")
        try await cloud.deleteAccessConfig(instance: "vm-2", family: .ipv4)
        let refused = await #expect(throws: KubeIPError.self) {
            try await cloud.addAccessConfig(instance: "vm-2", family: .ipv4, ip: "198.51.100.1")
        }
        #expect(refused?.code == .conflict)
        #expect(refused?.message.contains("IP_IN_USE_BY_ANOTHER_RESOURCE") == true)
        #expect(try await cloud.getAddress("edge-1").user == "vm-1")
        #expect(await cloud.instance("vm-2")?.external[.ipv4] == nil)
    }

    @Test func removingAStaticAddressReservesItAgainAndARemovedEphemeralIsGone() async throws {
        let cloud = SimulatedComputeEngine()
        let first = try #require(await cloud.createInstance("vm-1").external[.ipv4])
        await cloud.reserveAddress("edge-1", ip: "198.51.100.1")
        try await cloud.deleteAccessConfig(instance: "vm-1", family: .ipv4)
        try await cloud.addAccessConfig(instance: "vm-1", family: .ipv4, ip: "198.51.100.1")
        try await cloud.deleteAccessConfig(instance: "vm-1", family: .ipv4)
        #expect(try await cloud.getAddress("edge-1").status == "RESERVED")
        try await cloud.addAccessConfig(instance: "vm-1", family: .ipv4)
        let again = try #require(await cloud.instance("vm-1")?.external[.ipv4])
        #expect(again.isEphemeral)
        #expect(again.ip != first.ip)
        // Nothing to remove is not found.
        try await cloud.deleteAccessConfig(instance: "vm-1", family: .ipv4)
        let missing = await #expect(throws: KubeIPError.self) {
            try await cloud.deleteAccessConfig(instance: "vm-1", family: .ipv4)
        }
        #expect(missing?.code == .notFound)
    }

    @Test func anIPv4OnlyVMCannotTakeAnIPv6RangeAndADualStackOneCan() async throws {
        let cloud = SimulatedComputeEngine()
        await cloud.createInstance("vm-1")
        await cloud.createInstance("vm-2", dualStack: true)
        await cloud.reserveAddress("edge-v6", ip: "2001:db8:1:2::", family: .ipv6)
        let refused = await #expect(throws: KubeIPError.self) {
            try await cloud.addAccessConfig(instance: "vm-1", family: .ipv6, ip: "2001:db8:1:2::")
        }
        #expect(refused?.code == .invalidSetting)
        try await cloud.deleteAccessConfig(instance: "vm-2", family: .ipv6)
        try await cloud.addAccessConfig(instance: "vm-2", family: .ipv6, ip: "2001:db8:1:2::")
        #expect(await cloud.instance("vm-2")?.external[.ipv6]?.addressName == "edge-v6")
        #expect(await cloud.instance("vm-2")?.external[.ipv4]?.isEphemeral == true)
    }

    @Test func listingSelectsByFamilyAndEveryLabel() async throws {
        let cloud = SimulatedComputeEngine()
        await cloud.reserveAddress("a", ip: "198.51.100.1", labels: ["env": "prod", "team": "edge"])
        await cloud.reserveAddress("b", ip: "198.51.100.2", labels: ["env": "prod"])
        await cloud.reserveAddress("c", ip: "198.51.100.3", labels: ["env": "dev", "team": "edge"])
        await cloud.reserveAddress("v6", ip: "2001:db8:1:2::", family: .ipv6, labels: ["env": "prod"])
        #expect(try await cloud.listAddresses(family: .ipv4, labels: ["env": "prod"]).map(\.name) == ["a", "b"])
        #expect(try await cloud.listAddresses(family: .ipv4, labels: ["env": "prod", "team": "edge"]).map(\.name) == ["a"])
        #expect(try await cloud.listAddresses(family: .ipv6, labels: ["env": "prod"]).map(\.name) == ["v6"])
        #expect(try await cloud.listAddresses(family: .ipv4, labels: [:]).count == 3)
        let unknown = await #expect(throws: KubeIPError.self) { try await cloud.getAddress("nope") }
        #expect(unknown?.code == .notFound)
    }
}
