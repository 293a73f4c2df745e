import Logging

/// The cloud-agnostic heart of kubeip: identify, choose, claim, confirm, hold, release.
///
/// It holds one address per configured family. Every cloud call goes through the
/// ``AddressPool`` protocol; time and randomness are injected, so tests drive the waits
/// with a manual clock.
public actor AddressEngine {
    public private(set) var cloud: CloudAdapter
    public private(set) var settings: EngineSettings
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

    public init(cloud: CloudAdapter, settings: EngineSettings, clock: any WallClock = SystemClock(),
                random: any RandomSource = SystemRandom(), state: any StateStore = InMemoryStateStore(),
                observer: any EngineObserver = NoEngineObserver(), logger: Logger = Logger(label: "kubeip.engine")) {
        self.cloud = cloud
        self.settings = settings
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
    /// Returns once every family is held and confirmed.
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
            try await shielded { [self] in try await self.release(old, from: me) }
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
            } catch let error as KubeIPError where error.isRetryable {
                // The adapter already retried with backoff: wait a full interval, then look again.
                let pause = Backoff.jittered(settings.retryInterval, fraction: settings.jitter, random: random)
                logger.warning("cloud unavailable, looking again later", metadata: ["error": "\(error)"])
                report(.transientError(error.description, retryIn: pause))
                try await clock.sleep(for: pause)
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
            try await clock.sleep(for: pause)
        }
    }

    /// One claim round: tries the candidates in order; a lost race moves on at once.
    private func claimFirst(of candidates: [PoolAddress], family: IPFamily,
                            for me: InstanceIdentity) async throws -> Assignment? {
        var attached: PoolAddress?
        do {
            for candidate in candidates {
                report(.attempting(candidate))
                do {
                    try await cloud.pool.attach(candidate, to: me)
                } catch let error as KubeIPError where error.code == .conflict {
                    report(.lostRace(candidate))
                    continue
                }
                // Read back: the claim counts only once the cloud shows it on our interface.
                guard let confirmed = try await readBack(candidate, family: family, for: me) else {
                    report(.lostRace(candidate))
                    continue
                }
                attached = confirmed
                break
            }
        } catch {
            // Even when the step was cancelled (a signal), the round must end: on GCE this is what
            // puts an external address back on an interface the swap emptied.
            let pool = cloud.pool
            do {
                try await shielded { try await pool.endClaimRound(family: family, attached: nil, for: me) }
            } catch let cleanup {
                // Report it (the adapter says what is wrong), but the original error is the cause.
                logger.error("could not end the claim round cleanly", metadata: ["error": "\(cleanup)"])
            }
            throw error
        }
        let pool = cloud.pool
        let result = attached
        try await shielded { try await pool.endClaimRound(family: family, attached: result, for: me) }
        return attached.map { Assignment(family: family, address: $0, identity: me, adopted: false) }
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

    /// Runs `body` in a task of its own, so that the caller's cancellation (a signal) does not
    /// interrupt cleanup that must finish.
    private func shielded(_ body: @escaping @Sendable () async throws -> Void) async throws {
        try await Task { try await body() }.value
    }

    private func report(_ event: EngineEvent) {
        switch event {
        case .lostRace, .waiting, .lost, .transientError:
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
        public var family: IPFamily
        /// Every address the filter selects.
        public var pool: [PoolAddress]
        /// The address this instance already holds, if any (it would be adopted).
        public var held: PoolAddress?
        /// The free addresses in the order they would be tried.
        public var candidates: [PoolAddress]
    }
    public var identity: InstanceIdentity
    public var families: [FamilyPlan]
}
