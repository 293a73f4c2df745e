import KubeIPCore
import KubeIPSimulator
import Logging
import Synchronization

/// `kubeip demo`: the real engine against an embedded simulated cloud, narrated.
///
/// Nothing here is scripted output: every line comes from the engine's own events while it
/// claims from a simulated cloud that enforces Elastic IP conflicts.
public struct Demo: Sendable {
    let write: @Sendable (String) -> Void
    let retryInterval: Duration

    public init(retryInterval: Duration = .milliseconds(300), write: @escaping @Sendable (String) -> Void = { print($0) }) {
        self.write = write
        self.retryInterval = retryInterval
    }

    /// Prints each event of one instance, prefixed with its name.
    struct Narrator: EngineObserver {
        let name: String
        let write: @Sendable (String) -> Void
        func record(_ event: EngineEvent) {
            switch event {
            case .identifying, .identified, .verified, .listed: return
            default: write("    [\(name)] \(event.statusLine)")
            }
        }
    }

    /// Runs the story; returns the final holdings for tests.
    @discardableResult
    public func run() async throws -> [String: String] {
        // Each call takes a few milliseconds, so the instances' list-then-attach steps overlap.
        let cloud = SimulatedCloud(region: "sim-east-1", latency: .milliseconds(15))
        let quiet = Logger(label: "kubeip.demo", factory: { _ in SwiftLogNoOpLogHandler() })
        write("kubeip demo: the real engine against an in-memory cloud with Elastic IP semantics.")
        write("")
        write("1. The pool: four reserved addresses tagged kubeip=reserved, and one that is not ours.")
        for i in 0..<4 { await cloud.allocateAddress("198.51.100.\(10 + i)", tags: ["kubeip": "reserved"]) }
        await cloud.allocateAddress("203.0.113.50", tags: ["team": "other"])
        for address in await cloud.allAddresses() {
            let tag = address.fields.first { $0.key.hasPrefix("Tag:") }.map { "\($0.key.dropFirst(4))=\($0.value)" } ?? ""
            write("    \(address.ip)  \(address.id)  \(tag)")
        }

        write("")
        write("2. Six instances boot at once, all configured with order-by: PublicIp, so every one of them")
        write("   wants 198.51.100.10 first: the worst case. There is no lock between them. Each claims with")
        write("   the cloud's conditional attach; a lost race moves on to the next address at once.")
        let settings = EngineSettings(ordering: AddressOrdering(field: "PublicIp"), retryInterval: retryInterval,
                                      reconcileInterval: retryInterval)
        var engines: [String: AddressEngine] = [:]
        for n in 1...6 {
            let me = await cloud.launchInstance("i-node\(n)")
            engines[me.instanceID] = AddressEngine(
                cloud: cloud.adapter(for: me.instanceID, filter: ["kubeip": ["reserved"]]), settings: settings,
                observer: Narrator(name: me.instanceID, write: write), logger: quiet)
        }
        let results = Holdings()
        let booting = engines
        let claims = Task {
            await withTaskGroup(of: Void.self) { group in
                for (name, engine) in booting {
                    group.addTask {
                        if let held = try? await engine.acquire().first { results.withLock { $0[name] = held.address.ip } }
                    }
                }
            }
        }
        try await waitUntil { results.withLock { $0.count } == 4 }
        write("   -> four instances hold one address each; two wait for one to come free.")
        write("   (Without order-by each instance starts at its own point of the pool, so most claims win at once.)")

        let holders = results.withLock { $0.keys.sorted() }
        let restarting = holders[0], leaving = holders[1]
        write("")
        write("3. \(restarting) restarts. It finds its address already attached and adopts it: no cloud change.")
        let before = await cloud.calls[.associate, default: 0]
        let restarted = AddressEngine(cloud: cloud.adapter(for: restarting, filter: ["kubeip": ["reserved"]]),
                                      settings: settings, observer: Narrator(name: restarting, write: write), logger: quiet)
        try await restarted.acquire()
        write("   -> attach calls during the restart: \(await cloud.calls[.associate, default: 0] - before)")

        write("")
        write("4. \(leaving) shuts down (release-on-exit: shutdown) and gives its address back;")
        write("   a waiting instance claims it at its next look.")
        try await engines[leaving]!.release()
        results.withLock { _ = $0.removeValue(forKey: leaving) }
        await cloud.terminate(leaving)
        try await waitUntil { results.withLock { $0.count } == 4 }

        // The remaining waiter stops here, so that step 5 is about the hold check alone.
        claims.cancel()
        await claims.value

        write("")
        write("5. Someone detaches \(restarting)'s address by hand. Its next hold check claims one again.")
        if let held = await cloud.addresses(on: await cloud.identity(of: restarting)!.interfaceID).first,
           let association = held.holder?.associationID {
            try await cloud.disassociate(associationID: association)
            try await restarted.verify()
        }

        write("")
        write("Final state of the pool:")
        for address in await cloud.allAddresses() {
            write("    \(address.ip)  \(address.holder.map { "held by \($0.instanceID ?? $0.interfaceID)" } ?? "free")")
        }
        write("")
        write("Every address is on at most one instance and every instance has at most one address.")
        write("Run it for real with `kubeip check`, then `kubeip run` (see `man kubeip`).")
        var final: [String: String] = [:]
        for address in await cloud.allAddresses() { if let holder = address.holder?.instanceID { final[holder] = address.ip } }
        return final
    }

    /// Instance → address, shared by the concurrently claiming instances.
    final class Holdings: Sendable {
        private let map = Mutex<[String: String]>([:])
        func withLock<T>(_ body: (inout [String: String]) -> T) -> T { map.withLock { body(&$0) } }
    }

    private func waitUntil(timeout: Duration = .seconds(20), _ condition: @Sendable () -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while !condition() {
            if clock.now > deadline { throw KubeIPError(.io, "the demo did not reach its next step in time") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
