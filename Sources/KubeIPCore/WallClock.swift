#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Time, injected: production reads the system clock, tests advance a manual one.
public protocol WallClock: Sendable {
    /// The current wall-clock time (signing dates, token and lease expiry).
    var now: Date { get }
    /// Suspends for `duration`; throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// The system's real clock.
public struct SystemClock: WallClock {
    public init() {}
    public var now: Date { Date() }
    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}

extension Duration {
    /// The duration in (fractional) seconds.
    public var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// A short human form for logs and status lines: `350ms`, `12s`, `1m30s`, `2h5m`.
    public var shortDescription: String {
        let total = seconds
        if total < 1 { return "\(Int((total * 1000).rounded()))ms" }
        let whole = Int(total.rounded())
        let (h, m, s) = (whole / 3600, whole % 3600 / 60, whole % 60)
        if h > 0 { return m > 0 ? "\(h)h\(m)m" : "\(h)h" }
        if m > 0 { return s > 0 ? "\(m)m\(s)s" : "\(m)m" }
        return "\(s)s"
    }

    /// Scales the duration by `factor`.
    public func scaled(by factor: Double) -> Duration {
        // Clamped: a huge interval times a jitter factor must not overflow Int64 nanoseconds.
        let nanoseconds = (seconds * factor * 1e9).rounded()
        return .nanoseconds(nanoseconds >= 9.2e18 ? Int64.max : (nanoseconds <= -9.2e18 ? Int64.min : Int64(nanoseconds)))
    }
}
