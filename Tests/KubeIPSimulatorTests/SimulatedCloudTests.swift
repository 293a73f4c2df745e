import KubeIPCore
import Testing
@testable import KubeIPSimulator

/// The EC2-like in-memory cloud: its conflict semantics and faults.
@Suite struct SimulatedCloudTests {
    @Test func anAddressHeldElsewhereIsAConflictAndStaysPut() async throws {
        let cloud = SimulatedCloud()
        let a = await cloud.launchInstance()
        let b = await cloud.launchInstance()
        let id = await cloud.allocateAddress("198.51.100.1")
        try await cloud.associate(allocationID: id, interfaceID: a.interfaceID)
        await #expect(throws: KubeIPError.self) {
            try await cloud.associate(allocationID: id, interfaceID: b.interfaceID)
        }
        do {
            try await cloud.associate(allocationID: id, interfaceID: b.interfaceID)
        } catch let error as KubeIPError {
            #expect(error.code == .conflict)
        }
        #expect(await cloud.addresses(on: a.interfaceID).map(\.id) == [id])
        #expect(await cloud.addresses(on: b.interfaceID).isEmpty)
        // Re-associating to the same holder is not a conflict.
        try await cloud.associate(allocationID: id, interfaceID: a.interfaceID)
    }

    @Test func anInterfaceHoldsOneAddressPerFamily() async throws {
        let cloud = SimulatedCloud()
        let a = await cloud.launchInstance()
        let first = await cloud.allocateAddress("198.51.100.1")
        let second = await cloud.allocateAddress("198.51.100.2")
        let v6 = await cloud.allocateAddress("2001:db8::1", family: .ipv6)
        try await cloud.associate(allocationID: first, interfaceID: a.interfaceID)
        try await cloud.associate(allocationID: v6, interfaceID: a.interfaceID)
        try await cloud.associate(allocationID: second, interfaceID: a.interfaceID)
        #expect(Set(await cloud.addresses(on: a.interfaceID).map(\.id)) == [second, v6])
        #expect(await cloud.allAddresses().first { $0.id == first }?.isFree == true)
    }

    @Test func terminatingAnInstanceFreesItsAddresses() async throws {
        let cloud = SimulatedCloud()
        let a = await cloud.launchInstance()
        let id = await cloud.allocateAddress("198.51.100.1")
        try await cloud.associate(allocationID: id, interfaceID: a.interfaceID)
        await cloud.terminate(a.instanceID)
        #expect(await cloud.allAddresses().first?.isFree == true)
        await #expect(throws: KubeIPError.self) {
            try await cloud.associate(allocationID: id, interfaceID: a.interfaceID)
        }
    }

    @Test func disassociationNeedsTheCurrentAssociation() async throws {
        let cloud = SimulatedCloud()
        let a = await cloud.launchInstance()
        let id = await cloud.allocateAddress("198.51.100.1")
        try await cloud.associate(allocationID: id, interfaceID: a.interfaceID)
        let association = try #require(await cloud.allAddresses().first?.holder?.associationID)
        await #expect(throws: KubeIPError.self) { try await cloud.disassociate(associationID: "eipassoc-nope") }
        try await cloud.disassociate(associationID: association)
        #expect(await cloud.allAddresses().first?.isFree == true)
    }

    @Test func describeSelectsByFamilyTagsAndID() async throws {
        let cloud = SimulatedCloud()
        let prod = await cloud.allocateAddress("198.51.100.1", tags: ["env": "prod"])
        await cloud.allocateAddress("198.51.100.2", tags: ["env": "dev"])
        await cloud.allocateAddress("2001:db8::1", family: .ipv6, tags: ["env": "prod"])
        let selected = try await cloud.describe(family: .ipv4, filter: ["env": ["prod"]])
        #expect(selected.map(\.id) == [prod])
        #expect(selected.first?.fields["Tag:env"] == "prod")
        #expect(try await cloud.describe(family: .ipv4, filter: ["env": ["prod", "dev"]]).count == 2)
        #expect(try await cloud.describe(family: .ipv4, filter: [:], allocationID: prod).count == 1)
    }

    @Test func injectedFaultsFailTheNextCallsOfThatOperationOnly() async throws {
        let cloud = SimulatedCloud()
        let a = await cloud.launchInstance()
        let id = await cloud.allocateAddress("198.51.100.1")
        await cloud.inject(KubeIPError(.throttled, "slow down"), into: .associate, count: 2)
        for _ in 0..<2 {
            do {
                try await cloud.associate(allocationID: id, interfaceID: a.interfaceID)
                Issue.record("expected a throttle")
            } catch let error as KubeIPError {
                #expect(error.code == .throttled)
            }
        }
        _ = try await cloud.describe(family: .ipv4, filter: [:])
        try await cloud.associate(allocationID: id, interfaceID: a.interfaceID)
        #expect(await cloud.calls[.associate] == 3)
        #expect(await cloud.calls[.describe] == 1)
    }

    @Test func theAdapterAttachesAndDetachesThroughThePool() async throws {
        let cloud = SimulatedCloud()
        let a = await cloud.launchInstance()
        let b = await cloud.launchInstance()
        await cloud.allocateAddress("198.51.100.1", tags: ["kubeip": "yes"])
        let poolA = cloud.adapter(for: a.instanceID, filter: ["kubeip": ["yes"]]).pool
        let poolB = cloud.adapter(for: b.instanceID, filter: ["kubeip": ["yes"]]).pool
        let address = try #require(try await poolA.addresses(family: .ipv4, for: a).first)
        try await poolA.attach(address, to: a)
        await #expect(throws: KubeIPError.self) { try await poolB.attach(address, to: b) }
        await #expect(throws: KubeIPError.self) { try await poolB.detach(address, from: b) }
        try await poolA.detach(address, from: a)
        try await poolA.detach(address, from: a)
        #expect(try await poolA.address(id: address.id, family: .ipv4, for: a)?.isFree == true)
        #expect(try await cloud.adapter(for: a.instanceID).identity.identity() == a)
    }
}
