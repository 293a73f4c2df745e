import KubeIPCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A clock on which time runs `factor` times faster than real time: every sleep really suspends
/// (for its duration divided by `factor`), so loops that pause between steps (lease renewals, hold
/// checks, waits for a Node) never spin, yet minutes of simulated time pass in milliseconds.
/// For tests that run whole daemons; a ``ManualClock`` suits tests that step through waits.
public struct AcceleratedClock: WallClock {
    private let start: Date
    private let origin: ContinuousClock.Instant
    /// How much faster than real time this clock runs.
    public let factor: Double

    public init(factor: Double = 1000, start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        self.factor = max(1, factor)
        self.start = start
        self.origin = ContinuousClock.now
    }

    public var now: Date {
        start.addingTimeInterval((ContinuousClock.now - origin).seconds * factor)
    }

    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: max(duration, .zero).scaled(by: 1 / factor))
    }
}
