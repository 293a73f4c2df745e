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

    /// Scales the duration by `factor`.
    public func scaled(by factor: Double) -> Duration {
        .nanoseconds(Int64((seconds * factor * 1e9).rounded()))
    }
}
