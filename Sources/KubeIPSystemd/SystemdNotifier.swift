import CSystemd
import KubeIPCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A ``KubeIPCore/ServiceNotifier`` speaking systemd's notification protocol through libsystemd's `sd_notify`.
///
/// Every call sends one datagram to `$NOTIFY_SOCKET`. When that variable is unset (not started by
/// systemd, or not `Type=notify`) every call is a harmless no-op, so the daemon can always use this
/// notifier. The environment is never modified. Status texts are sent on one line: line breaks are
/// replaced with spaces, since they would end the `STATUS=` assignment.
public struct SystemdNotifier: ServiceNotifier {
    /// The watchdog period systemd asked for (`WATCHDOG_USEC`, honoured only when `WATCHDOG_PID`
    /// is unset or names this process), read once when the notifier is created; nil when disabled.
    public let watchdogInterval: Duration?

    /// Creates a notifier, reading the watchdog settings from the environment.
    public init() {
        var usec: UInt64 = 0
        if sd_watchdog_enabled(0, &usec) > 0, usec > 0 {
            watchdogInterval = .microseconds(Int64(clamping: usec))
        } else {
            watchdogInterval = nil
        }
    }

    /// `READY=1` with `STATUS=<status>`.
    public func ready(status: String) {
        send("READY=1\nSTATUS=\(Self.oneLine(status))")
    }

    /// `STATUS=<text>`.
    public func status(_ text: String) {
        send("STATUS=\(Self.oneLine(text))")
    }

    /// `RELOADING=1` with `MONOTONIC_USEC=` (the current `CLOCK_MONOTONIC` time, which
    /// `Type=notify-reload` units require); end the reload with ``ready(status:)``.
    public func reloading() {
        send("RELOADING=1\nMONOTONIC_USEC=\(Self.monotonicMicroseconds())")
    }

    /// `STOPPING=1` with `STATUS=<status>`.
    public func stopping(status: String) {
        send("STOPPING=1\nSTATUS=\(Self.oneLine(status))")
    }

    /// `WATCHDOG=1`.
    public func watchdog() {
        send("WATCHDOG=1")
    }

    /// `EXTEND_TIMEOUT_USEC=`: asks systemd to wait `duration` longer for the current start-up,
    /// reload or stop before timing out (useful while waiting for a free address before `READY=1`).
    public func extendTimeout(by duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let usec = max(0, seconds) &* 1_000_000 &+ max(0, attoseconds / 1_000_000_000_000)
        send("EXTEND_TIMEOUT_USEC=\(usec)")
    }

    /// Sends newline-separated `KEY=value` assignments; false when nothing was sent (no socket or an error).
    @discardableResult
    public func send(_ assignments: String) -> Bool {
        sd_notify(0, assignments) > 0
    }

    static func oneLine(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 == 0x0a || $0 == 0x0d || $0 == 0x00 ? 0x20 : $0 }, as: UTF8.self)
    }

    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}
