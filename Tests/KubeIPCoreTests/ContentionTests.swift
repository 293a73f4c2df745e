import KubeIPCore
import KubeIPSimulator
import Testing

/// Many instances claim from one small pool at once, with no lock between them.
@Suite struct ContentionTests {
    @Test(arguments: [(8, 4), (12, 3), (5, 5)])
    func concurrentClaimersNeverShareAnAddress(instances: Int, addresses: Int) async throws {
        let cloud = SimulatedCloud()
        for i in 0..<addresses { await cloud.allocateAddress("198.51.100.\(i + 1)", tags: ["kubeip": "reserved"]) }
        var engines: [AddressEngine] = []
        let clock = ManualClock()
        for _ in 0..<instances {
            let me = await cloud.launchInstance()
            engines.append(AddressEngine(cloud: cloud.adapter(for: me.instanceID, filter: ["kubeip": ["reserved"]]),
                                         settings: EngineSettings(retryInterval: .seconds(10), retryAttempts: 1),
                                         clock: clock, random: SeededRandom()))
        }
        let results = await withTaskGroup(of: Assignment?.self) { group in
            for engine in engines { group.addTask { try? await engine.acquire().first } }
            var out: [Assignment] = []
            for await result in group { if let result { out.append(result) } }
            return out
        }
        #expect(results.count == min(instances, addresses))
        // Every address on at most one interface, every interface with at most one address,
        // and every winner still holds what it was told it holds.
        let truth = await cloud.allAddresses()
        #expect(Set(results.map(\.address.id)).count == results.count)
        for result in results {
            #expect(truth.first { $0.id == result.address.id }?.holder?.interfaceID == result.identity.interfaceID)
        }
        let held = truth.compactMap(\.holder?.interfaceID)
        #expect(Set(held).count == held.count)
    }

    @Test func rotationSpreadsFirstChoices() {
        let free = (1...8).map { PoolAddress(id: "eipalloc-\($0)", ip: "198.51.100.\($0)") }
        let firsts = Set((0..<32).map {
            CandidateOrder.order(free, ordering: nil, preferredID: nil, instanceID: "i-\($0)").first!.id
        })
        #expect(firsts.count >= 6)
    }

    @Test func orderIsDeterministicPerInstance() {
        let free = (1...5).map { PoolAddress(id: "eipalloc-\($0)", ip: "198.51.100.\($0)") }
        let a = CandidateOrder.order(free, ordering: nil, preferredID: nil, instanceID: "i-abc")
        let b = CandidateOrder.order(free.reversed(), ordering: nil, preferredID: nil, instanceID: "i-abc")
        #expect(a == b)
        #expect(Set(a.map(\.id)) == Set(free.map(\.id)))
    }
}
