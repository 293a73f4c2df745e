import Logging

/// A reloaded configuration: the new cloud adapter, engine settings and release policy.
public struct DaemonConfiguration: Sendable {
    public var cloud: CloudAdapter
    public var settings: EngineSettings
    public var releasePolicy: ReleasePolicy

    public init(cloud: CloudAdapter, settings: EngineSettings, releasePolicy: ReleasePolicy) {
        self.cloud = cloud
        self.settings = settings
        self.releasePolicy = releasePolicy
    }
}

/// How a daemon's run ended.
public enum DaemonOutcome: Sendable, Equatable {
    /// Stopped on request; `released` says whether the addresses were given back.
    case stopped(released: Bool)
}

/// The one lifecycle of every kubeip daemon, host mode and kube mode alike: acquire, announce,
/// tell the service manager we are ready, hold (a check every `reconcile-interval`), reload on
/// request, give the addresses back when the machine goes away, and on stop release or keep
/// them as the policy says. What differs between modes is the ``DaemonRole``.
///
/// Stop and reload arrive as ``DaemonRequests`` (the engine's own): they end waits, never work in
/// flight, so a claim round always finishes and no cleanup needs shielding from cancellation.
public struct DaemonLoop: Sendable {
    private let engine: AddressEngine
    private let role: any DaemonRole
    private let notifier: any ServiceNotifier
    private let health: DaemonHealth
    private let clock: any WallClock
    private let random: any RandomSource
    private let reload: @Sendable () async throws -> DaemonConfiguration
    private let initialPolicy: ReleasePolicy
    private let logger: Logger

    /// - Parameters:
    ///   - health: kept current through the run; give the engine ``DaemonHealth/observing(_:)``
    ///     of the same health so that its events count as progress.
    ///   - reload: builds a fresh configuration on a reload request; its errors keep the running one.
    public init(engine: AddressEngine, role: any DaemonRole, notifier: any ServiceNotifier, health: DaemonHealth,
                clock: any WallClock, random: any RandomSource = SystemRandom(), releasePolicy: ReleasePolicy,
                reload: @escaping @Sendable () async throws -> DaemonConfiguration,
                logger: Logger = Logger(label: "kubeip.daemon")) {
        self.engine = engine
        self.role = role
        self.notifier = notifier
        self.health = health
        self.clock = clock
        self.random = random
        self.reload = reload
        self.initialPolicy = releasePolicy
        self.logger = logger
    }

    /// Where the loop stands.
    private enum Stage {
        /// Claiming (or adopting) what is not held yet.
        case acquiring
        /// Everything held and announced; `sinceCheck` is the time slept since the last hold check.
        case holding([Assignment], sinceCheck: Duration)
        /// Holding nothing on purpose until stopped: gave up.
        case idle
        /// Holding nothing because the machine is going away; claims again should it stay after all
        /// (a removal that was called off).
        case departing
    }

    /// Runs until a stop is requested; throws on a fatal error (bad permissions, pool exhausted
    /// after `retry-attempts` in host mode, ...), after telling the service manager.
    public func run() async throws -> DaemonOutcome {
        let requests = engine.requests
        let watchdog = startWatchdog()
        defer { watchdog?.cancel() }
        do {
            let outcome = try await loop(requests)
            health.enter(.stopped)
            await role.ending(error: nil)
            return outcome
        } catch let error as KubeIPError {
            health.enter(.failed)
            health.setReady(false)
            notifier.stopping(status: "failed: \(error)")
            await role.ending(error: error)
            throw error
        }
    }

    private func loop(_ requests: DaemonRequests) async throws -> DaemonOutcome {
        var policy = initialPolicy
        var ready = false
        /// A reload began with `RELOADING=1`: the next holding ends it with `READY=1`.
        var reloading = false
        var stage = Stage.acquiring
        do {
            if try await !role.prepare() {
                // Going away already (a restart on a Node being removed): give back what it holds.
                stage = .departing
                do {
                    try await giveBack(reason: "the machine is going away")
                } catch let error as KubeIPError where error.isRetryable {
                    logger.warning("could not give the address back yet", metadata: ["error": "\(error)"])
                }
            }
        } catch is Interrupted {}
        while true {
            try Task.checkCancellation()
            if requests.isStopRequested { return try await stop(policy: policy) }
            if requests.takeReload() {
                policy = await applyReload(current: policy, ready: ready)
                reloading = ready
                // Check again at once: the new pool may exclude what is held.
                if case .holding = stage { stage = .acquiring }
                continue
            }
            switch stage {
            case .acquiring:
                do {
                    let held = try await engine.acquire()
                    // A stop asked for during the claim: stop now, announcing nothing.
                    if requests.isStopRequested { continue }
                    try await role.announce(held)
                    health.enter(.holding)
                    health.setReady(true)
                    if !ready || reloading {
                        ready = true
                        reloading = false
                        notifier.ready(status: Self.holdingLine(held))
                    } else {
                        notifier.status(Self.holdingLine(held))
                    }
                    stage = .holding(held, sinceCheck: .zero)
                } catch is Interrupted {
                    continue
                } catch let error as KubeIPError where error.code == .poolExhausted {
                    try await role.gaveUp(error)
                    health.enter(.idle)
                    notifier.status("gave up: \(error)")
                    stage = .idle
                } catch let error as KubeIPError where ready && error.isRetryable {
                    // Re-claiming after a loss: the engine waits between looks itself; this is a
                    // failure of the announcement or a read, worth another try after a pause.
                    try await retryLater(error)
                }
            case .holding(let held, let slept):
                let settings = await engine.settings
                let interval = settings.reconcileInterval
                let remaining = max(interval - slept, .seconds(1))
                let step = role.goingAwayCheckInterval.map { min($0, remaining) } ?? remaining
                let pause = Backoff.jittered(step, fraction: settings.jitter, random: random)
                health.beat(pausing: pause)
                guard try await requests.pause(for: pause, on: clock) else { continue }
                let sinceCheck = slept + step
                do {
                    if try await role.isGoingAway() {
                        try await giveBack(reason: "the machine is going away")
                        stage = .departing
                        continue
                    }
                } catch let error as KubeIPError where error.isRetryable {
                    logger.warning("could not give the address back yet, trying again", metadata: ["error": "\(error)"])
                    stage = .holding(held, sinceCheck: sinceCheck)
                    continue
                }
                guard sinceCheck >= interval else {
                    stage = .holding(held, sinceCheck: sinceCheck)
                    continue
                }
                do {
                    let now = try await engine.verify()
                    // Announced again even when the same address came back after a loss (the role
                    // put the taint back then); cheap when nothing changed.
                    try await role.announce(now)
                    health.setReady(true)
                    notifier.status(Self.holdingLine(now))
                    stage = .holding(now, sinceCheck: .zero)
                } catch is Interrupted {
                    // A re-claim after a loss was cut short: claim again after the request.
                    health.setReady(false)
                    stage = .acquiring
                } catch let error as KubeIPError where error.isRetryable {
                    logger.warning("hold check failed, will try again", metadata: ["error": "\(error)"])
                    notifier.status("hold check failed, retrying later: \(error)")
                    stage = .holding(held, sinceCheck: .zero)
                }
            case .idle:
                health.beat(pausing: .seconds(86_400 * 365))
                await requests.waitForRequest()
            case .departing:
                let settings = await engine.settings
                let pause = Backoff.jittered(role.goingAwayCheckInterval ?? settings.reconcileInterval,
                                             fraction: settings.jitter, random: random)
                health.enter(.idle)
                health.beat(pausing: pause)
                guard try await requests.pause(for: pause, on: clock) else { continue }
                do {
                    if try await !role.isGoingAway() {
                        logger.notice("the machine is no longer going away: claiming again")
                        stage = .acquiring
                    }
                } catch let error as KubeIPError where error.isRetryable {
                    logger.debug("cannot tell whether the machine is still going away", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// A failure worth another try: says so, then waits a retry interval (a request ends the wait).
    private func retryLater(_ error: KubeIPError) async throws {
        let settings = await engine.settings
        let pause = Backoff.jittered(settings.retryInterval, fraction: settings.jitter, random: random)
        logger.warning("could not make the holding visible, trying again", metadata: ["error": "\(error)"])
        notifier.status("retrying in \(pause.shortDescription): \(error)")
        health.beat(pausing: pause)
        _ = try await engine.requests.pause(for: pause, on: clock)
    }

    static func holdingLine(_ assignments: [Assignment]) -> String {
        assignments.map { "holding \($0.summary)" }.joined(separator: "; ")
    }

    /// Reloads the configuration. Once ready, it brackets the work with `RELOADING=1` and
    /// `READY=1` (the caller re-checks the pool, then reports the holding); before the first
    /// `READY=1` it only reports status, so READY never precedes an attached address.
    private func applyReload(current: ReleasePolicy, ready: Bool) async -> ReleasePolicy {
        if ready { notifier.reloading() }
        do {
            let configuration = try await reload()
            try await engine.reconfigure(cloud: configuration.cloud, settings: configuration.settings)
            logger.info("configuration reloaded")
            notifier.status("configuration reloaded")
            return configuration.releasePolicy
        } catch {
            logger.error("reload failed, keeping the running configuration", metadata: ["error": "\(error)"])
            notifier.status("reload failed, keeping the running configuration: \(error)")
            return current
        }
    }

    private func stop(policy: ReleasePolicy) async throws -> DaemonOutcome {
        let release = await role.releaseOnStop(policy: policy)
        let held = await engine.assignments.values.map(\.address.ip).sorted()
        guard release else {
            notifier.stopping(status: held.isEmpty ? "stopping" : "stopping, keeping \(held.joined(separator: ", "))")
            return .stopped(released: false)
        }
        notifier.stopping(status: "stopping, releasing \(held.isEmpty ? "this instance's address" : held.joined(separator: ", "))")
        try await giveBack(reason: nil)
        return .stopped(released: true)
    }

    /// Releases whatever this instance holds. Asks the cloud, not memory: a claim interrupted
    /// between attach and read-back still counts.
    private func giveBack(reason: String?) async throws {
        health.setReady(false)
        health.enter(.releasing)
        if let reason {
            logger.notice("\(reason): releasing", metadata: [:])
            notifier.status("\(reason): releasing")
        }
        let held = try await engine.currentHoldings()
        try await engine.release()
        await role.released(held)
        health.enter(.idle)
        if reason != nil { notifier.status("released: \(reason ?? "")") }
    }

    /// Pings the service manager's watchdog at half its interval, while the loop is alive: a
    /// step that runs past its budget stops the pings, and systemd restarts the daemon.
    private func startWatchdog() -> Task<Void, Never>? {
        guard let interval = notifier.watchdogInterval, interval > .zero else { return nil }
        let pause = interval.scaled(by: 0.5)
        return Task { [notifier, clock, health] in
            while !Task.isCancelled {
                if health.snapshot.alive { notifier.watchdog() }
                do { try await clock.sleep(for: pause) } catch { return }
            }
        }
    }
}
