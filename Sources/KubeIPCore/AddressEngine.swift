import Logging

/// The cloud-agnostic heart of kubeip: identify, choose, claim, confirm, hold, release.
///
/// It holds one address per configured family. Every cloud call goes through the
/// ``AddressPool`` protocol, every claim of a candidate through the ``ClaimCoordinator``; time
/// and randomness are injected, so tests drive the waits with a manual clock. Its waits end
/// early on a ``DaemonRequests`` request (it then throws ``Interrupted``); work in flight, a
/// claim round above all, is never cut short by one.
public actor AddressEngine {
    public private(set) var cloud: CloudAdapter
    public private(set) var settings: EngineSettings
    private let coordinator: any ClaimCoordinator
    /// Stop and reload requests: they end the engine's waits (and the daemon's, which shares them).
    public nonisolated let requests: DaemonRequests
    private let clock: any WallClock
    private let random: any RandomSource
    private let state: any StateStore
    private let observer: any EngineObserver
    private let logger: Logger

    /// Who we are, once discovered.
    public private(set) var identity: InstanceIdentity?
    /// The addresses held now, by family.
    public private(set) var assignments: [IPFamily: Assignment] = [:]
    /// Addresses that left the pool on a reconfiguration: released once a replacement is held,
    /// so the instance is never left without a public address in between.
    private var retiring: [IPFamily: Assignment] = [:]

    /// - Parameters:
    ///   - coordinator: taken around every claim of a candidate (kube mode: a Lease per address).
    ///   - requests: stop and reload requests; they end the engine's waits.
    public init(cloud: CloudAdapter, settings: EngineSettings, coordinator: any ClaimCoordinator = Uncoordinated(),
                requests: DaemonRequests = DaemonRequests(), clock: any WallClock = SystemClock(),
                random: any RandomSource = SystemRandom(), state: any StateStore = InMemoryStateStore(),
                observer: any EngineObserver = NoEngineObserver(), logger: Logger = Logger(label: "kubeip.engine")) {
        self.cloud = cloud
        self.settings = settings
        self.coordinator = coordinator
        self.requests = requests
        self.clock = clock
        self.random = random
        self.state = state
        self.observer = observer
        self.logger = logger
    }

    // MARK: Identity

    /// Discovers (once) and returns this instance's identity.
    @discardableResult
    public func discover() async throws -> InstanceIdentity {
        if let identity { return identity }
        report(.identifying)
        let found = try await cloud.identity.identity()
        identity = found
        report(.identified(found))
        return found
    }

    // MARK: Acquire

    /// Makes sure this instance holds one address of every configured family: adopts an
    /// address it already holds, else claims one, waiting while the pool is empty.
    /// Returns once every family is held and confirmed; throws ``Interrupted`` when a stop or
    /// reload request ends a wait first.
    @discardableResult
    public func acquire() async throws -> [Assignment] {
        let me = try await discover()
        for family in settings.families where assignments[family] == nil {
            assignments[family] = try await acquire(family, for: me)
            try await retire(family, keeping: assignments[family], from: me)
        }
        for family in retiring.keys where !settings.families.contains(family) {
            try await retire(family, keeping: nil, from: me)
        }
        return settings.families.compactMap { assignments[$0] }
    }

    /// Releases the address a reconfiguration excluded, now that its replacement is held.
    /// A failure is logged and the address stays queued for the next pass: the replacement is
    /// held, so this is housekeeping, never a reason to stop.
    private func retire(_ family: IPFamily, keeping replacement: Assignment?, from me: InstanceIdentity) async throws {
        guard let old = retiring[family] else { return }
        guard old.address.id != replacement?.address.id else {
            retiring[family] = nil
            return
        }
        do {
            try await release(old, from: me)
            retiring[family] = nil
        } catch let error as KubeIPError where error.code == .conflict {
            // The cloud replaced it and someone else holds it now: nothing of ours to give back.
            logger.info("retired address already moved on", metadata: ["address": "\(old.address.ip)"])
            retiring[family] = nil
        } catch {
            logger.warning("could not release the address the new pool excludes; will try again",
                           metadata: ["address": "\(old.address.ip)", "error": "\(error)"])
        }
    }

    private func acquire(_ family: IPFamily, for me: InstanceIdentity) async throws -> Assignment {
        let preferred = await state.load().first { $0.instanceID == me.instanceID && $0.family == family }?.addressID
        var looks = 0
        while true {
            try Task.checkCancellation()
            if requests.isStopRequested { throw Interrupted() }
            var total = 0
            var freeCount = 0
            do {
                let pool = try await cloud.pool.addresses(family: family, for: me)
                total = pool.count
                let free = pool.filter(\.isFree)
                freeCount = free.count
                report(.listed(family: family, total: pool.count, free: free.count))
                let mine = pool.filter { $0.isHeld(by: me) }
                if let held = mine.first(where: { $0.id == preferred }) ?? mine.first {
                    let assignment = Assignment(family: family, address: held, identity: me, adopted: true)
                    await remember(assignment)
                    report(.adopted(assignment))
                    return assignment
                }
                let ordered = CandidateOrder.order(free, ordering: settings.ordering, preferredID: preferred,
                                                   instanceID: me.instanceID)
                if let assignment = try await claimFirst(of: ordered, family: family, for: me) {
                    await remember(assignment)
                    report(.claimed(assignment))
                    return assignment
                }
                // A stop asked for between two candidates ended the round: not a look at the pool.
                if requests.isStopRequested { throw Interrupted() }
            } catch let error as KubeIPError where error.isRetryable {
                // The adapter already retried with backoff: wait a full interval, then look again.
                let pause = Backoff.jittered(settings.retryInterval, fraction: settings.jitter, random: random)
                logger.warning("cloud unavailable, looking again later", metadata: ["error": "\(error)"])
                report(.transientError(error.description, retryIn: pause))
                try await wait(pause)
                continue
            }
            looks += 1
            if settings.retryAttempts > 0 && looks >= settings.retryAttempts {
                throw KubeIPError(.poolExhausted,
                                  "no free \(family.rawValue) address in a pool of \(total) after \(looks) look\(looks == 1 ? "" : "s"); check the filter or add addresses",
                                  setting: "retry-attempts")
            }
            let pause = Backoff.jittered(settings.retryInterval, fraction: settings.jitter, random: random)
            report(.waiting(family: family, total: total, free: freeCount, retryIn: pause, look: looks))
            try await wait(pause)
        }
    }

    /// Waits `pause` unless a stop or reload request comes first (then throws ``Interrupted``).
    private func wait(_ pause: Duration) async throws {
        guard try await requests.pause(for: pause, on: clock) else { throw Interrupted() }
    }

    /// One claim round, opened here and closed by the pool (see ``AddressPool/claimRound(family:for:_:)``):
    /// tries the candidates in order; a lost race, or a candidate another instance is claiming now,
    /// moves on at once.
    private func claimFirst(of candidates: [PoolAddress], family: IPFamily,
                            for me: InstanceIdentity) async throws -> Assignment? {
        let attached = try await cloud.pool.claimRound(family: family, for: me) { [self] in
            try await self.tryCandidates(candidates, family: family, for: me)
        }
        return attached.map { Assignment(family: family, address: $0, identity: me, adopted: false) }
    }

    /// Claims the first candidate it can, each under the coordinator; nil when every one went to
    /// another instance (or a stop was asked for between two candidates).
    private func tryCandidates(_ candidates: [PoolAddress], family: IPFamily,
                               for me: InstanceIdentity) async throws -> PoolAddress? {
        for candidate in candidates {
            if requests.isStopRequested { return nil }
            let outcome = try await coordinator.coordinate(claimOf: candidate, by: me) { [self] in
                try await self.claim(candidate, family: family, for: me)
            }
            switch outcome {
            case .ran(let confirmed?): return confirmed
            case .ran(nil): report(.lostRace(candidate))
            case .busy(let holder): report(.busy(candidate, holder: holder))
            }
        }
        return nil
    }

    /// Attaches one candidate and reads it back: the address as confirmed on our interface, or
    /// nil when another instance won it.
    private func claim(_ candidate: PoolAddress, family: IPFamily, for me: InstanceIdentity) async throws -> PoolAddress? {
        report(.attempting(candidate))
        do {
            try await cloud.pool.attach(candidate, to: me)
        } catch let error as KubeIPError where error.code == .conflict {
            return nil
        }
        // Read back: the claim counts only once the cloud shows it on our interface.
        return try await readBack(candidate, family: family, for: me)
    }

    /// Reads a just-attached address back. Reads may lag behind writes (EC2 is eventually
    /// consistent): an address that still shows no holder is read again, twice, after a short
    /// pause, before the claim is counted as lost. Held by another interface means lost at once.
    private func readBack(_ candidate: PoolAddress, family: IPFamily, for me: InstanceIdentity) async throws -> PoolAddress? {
        for attempt in 0..<3 {
            if attempt > 0 { try await clock.sleep(for: .seconds(attempt)) }
            guard let current = try await cloud.pool.address(id: candidate.id, family: family, for: me) else { return nil }
            if current.isHeld(by: me) { return current }
            if current.holder != nil { return nil }
        }
        return nil
    }

    // MARK: Hold

    /// One hold check: re-reads every held address and claims again any that was taken away.
    /// Returns the assignments held afterwards.
    @discardableResult
    public func verify() async throws -> [Assignment] {
        let me = try await discover()
        for family in settings.families {
            if let held = assignments[family] {
                let current = try await cloud.pool.address(id: held.address.id, family: family, for: me)
                if let current, current.isHeld(by: me) {
                    let assignment = Assignment(family: family, address: current, identity: me, adopted: held.adopted)
                    assignments[family] = assignment
                    report(.verified(assignment))
                    continue
                }
                logger.warning("address taken away", metadata: ["address": "\(held.address.ip)", "id": "\(held.address.id)"])
                report(.lost(held))
                assignments[family] = nil
            }
            assignments[family] = try await acquire(family, for: me)
        }
        return settings.families.compactMap { assignments[$0] }
    }

    /// Applies new settings and a new cloud adapter (a reloaded configuration). Held addresses
    /// stay held unless the new pool no longer contains them; those are released by the next
    /// ``acquire()`` once a replacement is attached.
    public func reconfigure(cloud: CloudAdapter, settings: EngineSettings) async throws {
        let me = try await discover()
        // Decide everything first; change nothing unless every read succeeded, so that a
        // failed reload really leaves the running configuration in place.
        var excluded: [IPFamily: Assignment] = [:]
        for (family, held) in assignments {
            let stillInPool = settings.families.contains(family)
                ? try await cloud.pool.address(id: held.address.id, family: family, for: me) != nil
                : false
            if !stillInPool { excluded[family] = held }
        }
        self.cloud = cloud
        self.settings = settings
        for (family, held) in excluded {
            logger.notice("address left the configured pool, replacing it", metadata: ["address": "\(held.address.ip)"])
            assignments[family] = nil
            retiring[family] = held
        }
    }

    // MARK: Release

    /// Gives back every held address.
    public func release() async throws {
        let me = try await discover()
        for family in IPFamily.allCases {
            if let held = assignments[family] { try await release(held, from: me) }
            if let old = retiring.removeValue(forKey: family) { try await release(old, from: me) }
        }
    }

    private func release(_ held: Assignment, from me: InstanceIdentity) async throws {
        report(.releasing(held))
        try await cloud.pool.detach(held.address, from: me)
        if assignments[held.family]?.address.id == held.address.id { assignments[held.family] = nil }
        report(.released(held))
    }

    /// Finds what this instance holds now, without claiming anything (for `release` and `status`).
    public func currentHoldings() async throws -> [Assignment] {
        let me = try await discover()
        var found: [Assignment] = []
        for family in settings.families {
            if let held = try await cloud.pool.addresses(family: family, for: me).first(where: { $0.isHeld(by: me) }) {
                let assignment = Assignment(family: family, address: held, identity: me, adopted: true)
                assignments[family] = assignment
                found.append(assignment)
            }
        }
        return found
    }

    // MARK: Plan

    /// What `acquire()` would do now, changing nothing (for `kubeip check`).
    public func plan() async throws -> ClaimPlan {
        let me = try await discover()
        let records = await state.load()
        var families: [ClaimPlan.FamilyPlan] = []
        for family in settings.families {
            let pool = try await cloud.pool.addresses(family: family, for: me)
            let preferred = records.first { $0.instanceID == me.instanceID && $0.family == family }?.addressID
            let held = pool.first { $0.isHeld(by: me) }
            let order = CandidateOrder.order(pool.filter(\.isFree), ordering: settings.ordering,
                                             preferredID: preferred, instanceID: me.instanceID)
            families.append(.init(family: family, pool: pool, held: held, candidates: order))
        }
        return ClaimPlan(identity: me, families: families)
    }

    // MARK: Helpers

    /// Records the address for the next start. Only a preference: a failure is logged, never fatal.
    private func remember(_ assignment: Assignment) async {
        var records = await state.load().filter {
            !($0.instanceID == assignment.identity.instanceID && $0.family == assignment.family)
        }
        records.append(HeldAddressRecord(instanceID: assignment.identity.instanceID, family: assignment.family,
                                         addressID: assignment.address.id, ip: assignment.address.ip,
                                         since: clock.now))
        do {
            try await state.save(records)
        } catch {
            logger.warning("cannot record the held address for the next start", metadata: ["error": "\(error)"])
        }
    }

    private func report(_ event: EngineEvent) {
        switch event {
        case .lostRace, .busy, .waiting, .lost, .transientError:
            logger.notice("\(event.statusLine)")
        case .attempting, .listed, .identifying, .verified:
            logger.debug("\(event.statusLine)")
        default:
            logger.info("\(event.statusLine)")
        }
        observer.record(event)
    }
}

/// What the engine would do, for `kubeip check`.
public struct ClaimPlan: Sendable {
    public struct FamilyPlan: Sendable {
        /// The family this part of the plan is for.
        public var family: IPFamily
        /// Every address the filter selects.
        public var pool: [PoolAddress]
        /// The address this instance already holds, if any (it would be adopted).
        public var held: PoolAddress?
        /// The free addresses in the order they would be tried.
        public var candidates: [PoolAddress]
    }
    /// This instance.
    public var identity: InstanceIdentity
    /// One plan per configured family.
    public var families: [FamilyPlan]
}
