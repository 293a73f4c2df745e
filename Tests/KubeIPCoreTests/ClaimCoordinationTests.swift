import KubeIPCore
import KubeIPSimulator
import Synchronization
import Testing

/// The simulated pool, watched: records claim rounds opening and closing, and every attach with
/// whether a round was open and how many attaches of the same address were in flight at once.
private actor Watch {
    var rounds: [String] = []
    var attachesOutsideARound = 0
    var inFlight: [String: Int] = [:]
    var mostInFlight = 0
    var open = 0

    func opened() { open += 1; rounds.append("open") }
    func closed(_ attached: PoolAddress?) { open -= 1; rounds.append(attached == nil ? "close: none" : "close: \(attached!.id)") }
    func attaching(_ id: String) {
        if open == 0 { attachesOutsideARound += 1 }
        inFlight[id, default: 0] += 1
        mostInFlight = max(mostInFlight, inFlight[id]!)
    }
    func attached(_ id: String) { inFlight[id, default: 1] -= 1 }
}

private let tags: [String: Set<String>] = ["kubeip": ["reserved"]]

@Suite struct ClaimCoordinationTests {
    private func world(addresses: Int) async -> (SimulatedCloud, [String]) {
        let cloud = SimulatedCloud()
        var ids: [String] = []
        for i in 0..<addresses { ids.append(await cloud.allocateAddress("198.51.100.\(i + 1)", tags: ["kubeip": "reserved"])) }
        return (cloud, ids)
    }

    private func engine(_ cloud: SimulatedCloud, _ me: InstanceIdentity, watch: Watch, coordinator: any ClaimCoordinator,
                        observer: any EngineObserver = NoEngineObserver(), retryAttempts: Int = 0,
                        ordering: AddressOrdering? = nil) -> AddressEngine {
        let watched = cloud.adapter(for: me.instanceID, filter: tags).intercepting { pool in
            pool.aroundAttach = { address, proceed in
                await watch.attaching(address.id)
                do {
                    await Task.yield()   // let another claimer overlap, were it allowed to
                    try await proceed()
                } catch {
                    await watch.attached(address.id)
                    throw error
                }
                await watch.attached(address.id)
            }
            pool.aroundRound = { body in
                await watch.opened()
                do {
                    let attached = try await body()
                    await watch.closed(attached)
                    return attached
                } catch {
                    await watch.closed(nil)
                    throw error
                }
            }
        }
        return AddressEngine(cloud: watched, settings: EngineSettings(ordering: ordering, retryInterval: .seconds(10),
                                                        retryAttempts: retryAttempts),
                             coordinator: coordinator, clock: ManualClock(autoAdvance: true), random: SeededRandom(),
                             observer: observer)
    }

    @Test func anAddressAnotherInstanceIsClaimingIsSkippedUntried() async throws {
        let (cloud, ids) = await world(addresses: 2)
        let me = await cloud.launchInstance()
        let ledger = InMemoryClaimCoordinator()
        for id in ids { await ledger.setHolder("node-b", of: id) }
        await ledger.setHolder(nil, of: ids[1])
        let watch = Watch()
        let events = Events()
        let held = try await engine(cloud, me, watch: watch, coordinator: ledger.coordinator(), observer: events,
                                    ordering: AddressOrdering(field: "PublicIp", descending: false)).acquire()
        #expect(held.map(\.address.id) == [ids[1]])
        #expect(await cloud.calls[.associate] == 1)
        #expect(events.all.contains { if case .busy(let a, "node-b") = $0 { a.id == ids[0] } else { false } })
        // Given up once settled: the next instance may try it.
        #expect(await ledger.holder(of: ids[1]) == nil)
    }

    @Test func everyAttachHappensInsideARoundThatTheAdapterCloses() async throws {
        let (cloud, ids) = await world(addresses: 2)
        let me = await cloud.launchInstance()
        await cloud.inject(KubeIPError(.conflict, "taken"), into: .associate)
        let watch = Watch()
        let held = try await engine(cloud, me, watch: watch, coordinator: Uncoordinated()).acquire()
        #expect(held.count == 1)
        #expect(await watch.attachesOutsideARound == 0)
        #expect(await watch.rounds == ["open", "close: \(held[0].address.id)"])
        #expect(ids.contains(held[0].address.id))
    }

    @Test func aRoundIsClosedWhenItsBodyFailsAndNothingIsTriedAfterACoordinationError() async throws {
        let (cloud, _) = await world(addresses: 2)
        let me = await cloud.launchInstance()
        let watch = Watch()
        struct Refusing: ClaimCoordinator {
            func coordinate<T: Sendable>(claimOf address: PoolAddress, by identity: InstanceIdentity,
                                         _ claim: @Sendable () async throws -> T) async throws -> Coordinated<T> {
                throw KubeIPError(.permissionDenied, "cannot create leases", resource: "create leases")
            }
        }
        let error = await #expect(throws: KubeIPError.self) {
            try await engine(cloud, me, watch: watch, coordinator: Refusing()).acquire()
        }
        #expect(error?.resource == "create leases")
        #expect(await cloud.calls[.associate] == nil)
        #expect(await watch.rounds == ["open", "close: none"])
    }

    @Test(arguments: [(8, 4), (6, 6)])
    func coordinatedClaimersNeverTryOneAddressAtOnce(instances: Int, addresses: Int) async throws {
        let (cloud, _) = await world(addresses: addresses)
        let ledger = InMemoryClaimCoordinator()
        let watch = Watch()
        var engines: [AddressEngine] = []
        for _ in 0..<instances {
            engines.append(engine(cloud, await cloud.launchInstance(), watch: watch, coordinator: ledger.coordinator(),
                                  retryAttempts: 2))
        }
        let winners = await withTaskGroup(of: Assignment?.self) { group in
            for engine in engines { group.addTask { try? await engine.acquire().first } }
            var out: [Assignment] = []
            for await winner in group { if let winner { out.append(winner) } }
            return out
        }
        #expect(winners.count == min(instances, addresses))
        #expect(Set(winners.map(\.address.id)).count == winners.count)
        #expect(await watch.mostInFlight == 1)
        #expect(await watch.attachesOutsideARound == 0)
    }
}

private final class Events: EngineObserver {
    private let log = Mutex<[EngineEvent]>([])
    func record(_ event: EngineEvent) { log.withLock { $0.append(event) } }
    var all: [EngineEvent] { log.withLock { $0 } }
}
