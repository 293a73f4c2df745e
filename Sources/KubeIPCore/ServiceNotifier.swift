/// How the daemon tells its service manager what it is doing (systemd's sd_notify in
/// production; a recorder in tests; nothing on a terminal).
public protocol ServiceNotifier: Sendable {
    /// `READY=1` with a status line: the address is attached and confirmed.
    func ready(status: String)
    /// `STATUS=`: one line of progress for `systemctl status`.
    func status(_ text: String)
    /// `RELOADING=1`: a configuration reload has begun (end it with ``ready(status:)``).
    func reloading()
    /// `STOPPING=1` with a status line.
    func stopping(status: String)
    /// `WATCHDOG=1`: still alive.
    func watchdog()
    /// How often the service manager expects ``watchdog()`` (from `WATCHDOG_USEC`); nil when it does not.
    var watchdogInterval: Duration? { get }
}

/// A notifier that drops everything (interactive runs, `kubeip check`).
public struct SilentNotifier: ServiceNotifier {
    public init() {}
    public func ready(status: String) {}
    public func status(_ text: String) {}
    public func reloading() {}
    public func stopping(status: String) {}
    public func watchdog() {}
    public var watchdogInterval: Duration? { nil }
}

/// Tells a restart from a shutdown, for `release-on-exit: shutdown`.
public protocol ShutdownDetector: Sendable {
    /// True when the machine itself is going down (not a service restart, a crash or an upgrade).
    func isSystemShuttingDown() async -> Bool
}

/// What the operating system asks of the daemon.
public enum DaemonSignal: Sendable, Equatable {
    /// SIGTERM / SIGINT: stop.
    case terminate
    /// SIGHUP: re-read the configuration.
    case reload
}
