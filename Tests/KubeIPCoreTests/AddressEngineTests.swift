import KubeIPCore
import KubeIPSimulator
import Testing

/// Builds a simulated cloud with `addresses` pool addresses (tag kubeip=reserved) and one decoy.
private func makeCloud(addresses: Int) async -> (SimulatedCloud, [String]) {
    let cloud = SimulatedCloud()
    var ids: [String] = []
    for i in 0..<addresses {
        ids.append(await cloud.allocateAddress("198.51.100.\(10 + i)", tags: ["kubeip": "reserved"]))
    }
    await cloud.allocateAddress("203.0.113.99", tags: ["kubeip": "other"])
    return (cloud, ids)
}

private let pool: [String: Set<String>] = ["kubeip": ["reserved"]]

private final class EventLog: EngineObserver, @unchecked Sendable {
    private let lock = Mutex<[EngineEvent]>([])
    func record(_ event: EngineEvent) { lock.withLock { $0.append(event) } }
    var events: [EngineEvent] { lock.withLock { $0 } }
}

import Synchronization

@Suite struct AddressEngineTests {
    @Test func firstClaimCostsThreeCallsAndIsConfirmed() async throws {
        let (cloud, _) = await makeCloud(addresses: 3)
        let me = await cloud.launchInstance()
        let engine = AddressEngine(cloud: cloud.adapter(for: me.instanceID, filter: pool), settings: EngineSettings(),
                                   clock: ManualClock(), random: FixedRandom())
        let held = try await engine.acquire()
        #expect(held.count == 1)
        #expect(held[0].adopted == false)
        #expect(held[0].address.ip.hasPrefix("198.51.100."))
        #expect(await cloud.addresses(on: me.interfaceID).map(\.id) == [held[0].address.id])
        let calls = await cloud.calls
        #expect(calls[.describe, default: 0] + calls[.associate, default: 0] == 3)
    }

    @Test func restartAdoptsWithoutMutation() async throws {
        let (cloud, _) = await makeCloud(addresses: 3)
        let me = await cloud.launchInstance()
        let state = InMemoryStateStore()
        let first = AddressEngine(cloud: cloud.adapter(for: me.instanceID, filter: pool), settings: EngineSettings(),
                                  clock: ManualClock(), random: FixedRandom(), state: state)
        let claimed = try await first.acquire()[0]
        let associations = await cloud.calls[.associate]
        let second = AddressEngine(cloud: cloud.adapter(for: me.instanceID, filter: pool), settings: EngineSettings(),
                                   clock: ManualClock(), random: FixedRandom(), state: state)
        let adopted = try await second.acquire()[0]
        #expect(adopted.adopted)
        #expect(adopted.address.id == claimed.address.id)
        #expect(adopted.address.holder?.associationID == claimed.address.holder?.associationID)
        #expect(await cloud.calls[.associate] == associations)
    }

    @Test func prefersTheAddressHeldLast() async throws {
        let (cloud, ids) = await makeCloud(addresses: 4)
        let me = await cloud.launchInstance()
        let state = InMemoryStateStore([HeldAddressRecord(instanceID: me.instanceID, family: .ipv4, addressID: ids[2],
                                                          ip: "198.51.100.12", since: ManualClock().now)])
        let engine = AddressEngine(cloud: cloud.adapter(for: me.instanceID, filter: pool), settings: EngineSettings(),
                                   clock: ManualClock(), random: FixedRandom(), state: state)
        #expect(try await engine.acquire()[0].address.id == ids[2])
    }

    @Test func orderByOverridesStickiness() async throws {
        let (cloud, ids) = await makeCloud(addresses: 3)
        let me = await cloud.launchInstance()
        let settings = EngineSettings(ordering: AddressOrdering(field: "PublicIp", descending: true))
        let engine = AddressEngine(cloud: cloud.adapter(for: me.instanceID, filter: pool), settings: settings,
                                   clock: ManualClock(), random: FixedRandom())
        #expect(try await engine.acquire()[0].address.id == ids[2])
    }

    @Test func lostRaceMovesOnWithoutWaiting() async throws {
        let (cloud, _) = await makeCloud(addresses: 2)
        let me = await cloud.launchInstance()
        await cloud.inject(KubeIPError(.conflict, "taken"), into: .associate)
        let clock = ManualClock()
        let log = EventLog()
        let engine = AddressEngine(cloud: cloud.adapter(for: me.instanceID, filter: pool), settings: EngineSettings(),
                                   clock: clock, random: FixedRandom(), observer: log)
        let held = try await engine.acquire()
        #expect(held.count == 1)
        #expect(clock.sleeps.isEmpty)
        #expect(log.events.contains { if case .lostRace = $0 { true } else { false } })
    }

    @Test func emptyPoolWaitsWithJitterThenClaimsAFreedAddress() async throws {
        let (cloud, ids) = await makeCloud(addresses: 1)
        let holder = await cloud.launchInstance()
        try await cloud.associate(allocationID: ids[0], interfaceID: holder.interfaceID)
        let me = await cloud.launchInstance()
        let clock = ManualClock()
        let settings = EngineSettings(retryInterval: .seconds(10), jitter: 0.2)
        let engine = AddressEngine(cloud: cloud.adapter(for: me.instanceID, filter: pool), settings: settings,
                                   clock: clock, random: FixedRandom(1.0))
        let task = Task { try await engine.acquire() }
        #expect(await clock.waitForSleepers(1))
        #expect(clock.sleeps == [.seconds(12)])   // 10 s + 20 % jitter at the top of the range
        await cloud.terminate(holder.instanceID)
        clock.advance(by: .seconds(12))
        let held = try await task.value
        #expect(held[0].address.id == ids[0])
        #expect(held[0].identity.instanceID == me.instanceID)
    }

    @Test func givesUpAfterRetryAttemptsNamingTheSetting() async throws {
        let (cloud, _) = await makeCloud(addresses: 0)
        let me = await cloud.launchInstance()
        let clock = ManualClock()
        let engine = AddressEngine(cloud: cloud.adapter(for: me.instanceID, filter: pool),
                                   settings: EngineSettings(retryInterval: .seconds(5), retryAttempts: 3),
                                   clock: clock, random: FixedRandom())
        let task = Task { try await engine.acquire() }
        for _ in 0..<2 { #expect(await clock.advanceToNextSleeper()) }
        let error = await #expect(throws: KubeIPError.self) { try await task.value }
        #expect(error?.code == .poolExhausted)
        #expect(error?.setting == "retry-attempts")
        #expect(clock.sleeps == [.seconds(5), .seconds(5)])
    }

    @Test func transientErrorsWaitAndLookAgain() async throws {
        let (cloud, _) = await makeCloud(addresses: 1)
        let me = await cloud.launchInstance()
        await cloud.inject(KubeIPError(.unavailable, "503"), into: .describe)
        let clock = ManualClock()
        let engine = AddressEngine(cloud: cloud.adapter(for: me.instanceID, filter: pool),
                                   settings: EngineSettings(retryInterval: .seconds(30)), clock: clock, random: FixedRandom())
        let task = Task { try await engine.acquire() }
        #expect(await clock.advanceToNextSleeper())
        #expect(try await task.value.count == 1)
        #expect(clock.sleeps == [.seconds(30)])
    }

    @Test func permissionErrorsAreFatal() async throws {
        let (cloud, _) = await makeCloud(addresses: 1)
        let me = await cloud.launchInstance()
        await cloud.inject(KubeIPError(.permissionDenied, "refused", resource: "ec2:AssociateAddress"), into: .associate)
        let engine = AddressEngine(cloud: cloud.adapter(for: me.instanceID, filter: pool), settings: EngineSettings(),
                                   clock: ManualClock(), random: FixedRandom())
        let error = await #expect(throws: KubeIPError.self) { try await engine.acquire() }
        #expect(error?.resource == "ec2:AssociateAddress")
    }

    @Test func verifyReclaimsAnAddressTakenAway() async throws {
        let (cloud, _) = await makeCloud(addresses: 2)
        let me = await cloud.launchInstance()
        let log = EventLog()
        let engine = AddressEngine(cloud: cloud.adapter(for: me.instanceID, filter: pool), settings: EngineSettings(),
                                   clock: ManualClock(), random: FixedRandom(), observer: log)
        let first = try await engine.acquire()[0]
        try await cloud.disassociate(associationID: try #require(first.address.holder?.associationID))
        let after = try await engine.verify()
        #expect(after.count == 1)
        #expect(await cloud.addresses(on: me.interfaceID).count == 1)
        #expect(log.events.contains(.lost(first)))
    }

    @Test func releaseDetaches() async throws {
        let (cloud, _) = await makeCloud(addresses: 1)
        let me = await cloud.launchInstance()
        let engine = AddressEngine(cloud: cloud.adapter(for: me.instanceID, filter: pool), settings: EngineSettings(),
                                   clock: ManualClock(), random: FixedRandom())
        try await engine.acquire()
        try await engine.release()
        #expect(await cloud.addresses(on: me.interfaceID).isEmpty)
        #expect(await engine.assignments.isEmpty)
    }

    @Test func reconfigureKeepsAnAddressStillInThePool() async throws {
        let (cloud, _) = await makeCloud(addresses: 2)
        let me = await cloud.launchInstance()
        let engine = AddressEngine(cloud: cloud.adapter(for: me.instanceID, filter: pool), settings: EngineSettings(),
                                   clock: ManualClock(), random: FixedRandom())
        let before = try await engine.acquire()[0]
        try await engine.reconfigure(cloud: cloud.adapter(for: me.instanceID, filter: pool),
                                     settings: EngineSettings(reconcileInterval: .seconds(60)))
        #expect(try await engine.acquire()[0].address.holder == before.address.holder)
    }

    @Test func reconfigureReplacesAnExcludedAddressBeforeReleasingIt() async throws {
        let cloud = SimulatedCloud()
        let old = await cloud.allocateAddress("198.51.100.1", tags: ["pool": "a"])
        let new = await cloud.allocateAddress("198.51.100.2", tags: ["pool": "b"])
        let me = await cloud.launchInstance()
        let engine = AddressEngine(cloud: cloud.adapter(for: me.instanceID, filter: ["pool": ["a"]]),
                                   settings: EngineSettings(), clock: ManualClock(), random: FixedRandom())
        #expect(try await engine.acquire()[0].address.id == old)
        try await engine.reconfigure(cloud: cloud.adapter(for: me.instanceID, filter: ["pool": ["b"]]),
                                     settings: EngineSettings())
        #expect(await cloud.addresses(on: me.interfaceID).map(\.id) == [old])   // still covered meanwhile
        #expect(try await engine.acquire()[0].address.id == new)
        #expect(await cloud.addresses(on: me.interfaceID).map(\.id) == [new])
    }

    @Test func planChangesNothing() async throws {
        let (cloud, _) = await makeCloud(addresses: 3)
        let me = await cloud.launchInstance()
        let engine = AddressEngine(cloud: cloud.adapter(for: me.instanceID, filter: pool), settings: EngineSettings(),
                                   clock: ManualClock(), random: FixedRandom())
        let plan = try await engine.plan()
        #expect(plan.families[0].pool.count == 3)
        #expect(plan.families[0].candidates.count == 3)
        #expect(plan.families[0].held == nil)
        #expect(await cloud.calls[.associate] == nil)
    }
}
