import Logging

/// The host-mode daemon: the ``DaemonLoop`` with the ``HostRole`` (systemd is its only audience;
/// `release-on-exit: shutdown` asks systemd whether the machine is going down).
///
/// Stop and reload requests go to the engine's ``AddressEngine/requests``.
public struct HostDaemon: Sendable {
    private let loop: DaemonLoop

    /// - Parameters:
    ///   - health: the daemon's health, for the listener and the watchdog (give the engine its
    ///     ``DaemonHealth/observing(_:)`` too).
    ///   - reload: builds a fresh configuration on a reload request; its errors keep the running one.
    public init(engine: AddressEngine, notifier: any ServiceNotifier, clock: any WallClock,
                random: any RandomSource = SystemRandom(), health: DaemonHealth? = nil,
                releasePolicy: ReleasePolicy, shutdown: any ShutdownDetector,
                reload: @escaping @Sendable () async throws -> DaemonConfiguration,
                logger: Logger = Logger(label: "kubeip.daemon")) {
        loop = DaemonLoop(engine: engine, role: HostRole(shutdown: shutdown, logger: logger), notifier: notifier,
                          health: health ?? DaemonHealth(clock: clock), clock: clock, random: random,
                          releasePolicy: releasePolicy, reload: reload, logger: logger)
    }

    /// Runs until a stop is requested; throws on a fatal error, after telling the service manager.
    public func run() async throws -> DaemonOutcome {
        try await loop.run()
    }
}
