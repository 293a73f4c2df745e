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

/// The host-mode daemon's life: acquire, tell the service manager we are ready, hold,
/// reload on request, and on stop release or keep the address as the policy says.
///
/// Signals arrive on a stream; whatever the daemon is doing (waiting for a free address,
/// sleeping between hold checks) is interrupted at its next suspension point.
public struct HostDaemon: Sendable {
    private let engine: AddressEngine
    private let notifier: any ServiceNotifier
    private let clock: any WallClock
    private let shutdown: any ShutdownDetector
    private let reload: @Sendable () async throws -> DaemonConfiguration
    private let logger: Logger
    private let initialPolicy: ReleasePolicy

    /// - Parameters:
    ///   - reload: builds a fresh configuration on SIGHUP; its errors keep the running one.
    public init(engine: AddressEngine, notifier: any ServiceNotifier, clock: any WallClock,
                releasePolicy: ReleasePolicy, shutdown: any ShutdownDetector,
                reload: @escaping @Sendable () async throws -> DaemonConfiguration,
                logger: Logger = Logger(label: "kubeip.daemon")) {
        self.engine = engine
        self.notifier = notifier
        self.clock = clock
        self.initialPolicy = releasePolicy
        self.shutdown = shutdown
        self.reload = reload
        self.logger = logger
    }

    /// How the run ended.
    public enum Outcome: Sendable, Equatable {
        /// Stopped on request; `released` says whether the addresses were given back.
        case stopped(released: Bool)
    }

    /// Runs until a `.terminate` signal; throws on a fatal error (bad permissions, pool
    /// exhausted after `retry-attempts`, ...), after telling the service manager.
    public func run(signals: AsyncStream<DaemonSignal>) async throws -> Outcome {
        let inbox = SignalInbox()
        let forwarder = Task {
            for await signal in signals { await inbox.deliver(signal) }
            await inbox.deliver(.terminate)
        }
        defer { forwarder.cancel() }
        let watchdog = startWatchdog()
        defer { watchdog?.cancel() }

        var policy = initialPolicy
        var ready = false
        while true {
            if let signal = await inbox.take() {
                switch signal {
                case .terminate:
                    return try await stop(policy: policy)
                case .reload:
                    policy = await applyReload(current: policy, ready: ready)
                    if ready {
                        // Re-check at once: the new pool may exclude what we hold.
                        ready = false
                    }
                    continue
                }
            }
            let step = Task { [engine, clock, ready] () async throws -> [Assignment] in
                if ready {
                    try await clock.sleep(for: await engine.settings.reconcileInterval)
                    return try await engine.verify()
                }
                return try await engine.acquire()
            }
            await inbox.setCurrent(step)
            let result = await step.result
            await inbox.setCurrent(nil)
            switch result {
            case .success(let assignments):
                if !ready {
                    ready = true
                    notifier.ready(status: Self.holdingLine(assignments))
                } else {
                    notifier.status(Self.holdingLine(assignments))
                }
            case .failure(is CancellationError):
                continue
            case .failure(let error as KubeIPError) where ready && error.isRetryable:
                logger.warning("hold check failed, will try again", metadata: ["error": "\(error)"])
                notifier.status("hold check failed, retrying later: \(error)")
            case .failure(let error):
                notifier.stopping(status: "failed: \(error)")
                throw error
            }
        }
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

    private func stop(policy: ReleasePolicy) async throws -> Outcome {
        let release: Bool
        switch policy {
        case .always: release = true
        case .never: release = false
        case .shutdown:
            release = await shutdown.isSystemShuttingDown()
            logger.info(release ? "the machine is shutting down: releasing"
                                : "no machine shutdown under way (or systemd could not tell): keeping the address")
        }
        let held = await engine.assignments.values.map(\.address.ip).sorted()
        guard release else {
            notifier.stopping(status: held.isEmpty ? "stopping" : "stopping, keeping \(held.joined(separator: ", "))")
            return .stopped(released: false)
        }
        notifier.stopping(status: "stopping, releasing \(held.isEmpty ? "this instance's address" : held.joined(separator: ", "))")
        // Ask the cloud, not memory: a claim interrupted between attach and read-back still counts.
        _ = try await engine.currentHoldings()
        try await engine.release()
        return .stopped(released: true)
    }

    private func startWatchdog() -> Task<Void, Never>? {
        guard let interval = notifier.watchdogInterval, interval > .zero else { return nil }
        let pause = interval.scaled(by: 0.5)
        return Task { [notifier, clock] in
            notifier.watchdog()
            while !Task.isCancelled {
                do { try await clock.sleep(for: pause) } catch { return }
                notifier.watchdog()
            }
        }
    }
}

/// Buffers signals and interrupts the daemon's current step when one arrives.
actor SignalInbox {
    private var pending: [DaemonSignal] = []
    private var current: Task<[Assignment], any Error>?

    func deliver(_ signal: DaemonSignal) {
        pending.append(signal)
        current?.cancel()
    }

    func take() -> DaemonSignal? {
        // A terminate outranks anything queued before it.
        if pending.contains(.terminate) {
            pending.removeAll()
            return .terminate
        }
        return pending.isEmpty ? nil : pending.removeFirst()
    }

    func setCurrent(_ task: Task<[Assignment], any Error>?) {
        current = task
        if task != nil && !pending.isEmpty { task?.cancel() }
    }
}
