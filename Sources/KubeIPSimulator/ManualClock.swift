import KubeIPCore
import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A clock that moves only when told to: tests advance it and every sleeper whose deadline
/// has passed wakes, in deadline order. Nothing in a test built on it waits on wall time.
public final class ManualClock: WallClock {
    private struct Sleeper {
        let id: UInt64
        let deadline: Duration
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var elapsed: Duration = .zero
        var nextID: UInt64 = 0
        var sleepers: [Sleeper] = []
        var sleepCount = 0
        var sleeps: [Duration] = []
    }

    private let start: Date
    private let autoAdvance: Bool
    private let state = Mutex(State())

    /// A clock that reads `start` until advanced.
    /// - Parameter autoAdvance: when true, every sleep moves time forward by its own duration
    ///   and returns at once (for code under test that sleeps inline, such as a retry loop).
    public init(start: Date = Date(timeIntervalSince1970: 1_800_000_000), autoAdvance: Bool = false) {
        self.start = start
        self.autoAdvance = autoAdvance
    }

    public var now: Date {
        start.addingTimeInterval(state.withLock { $0.elapsed }.seconds)
    }

    /// Time advanced since creation.
    public var elapsed: Duration { state.withLock { $0.elapsed } }

    /// Every duration anyone has slept for, in order (to assert backoff schedules).
    public var sleeps: [Duration] { state.withLock { $0.sleeps } }

    /// How many tasks are sleeping now.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(for duration: Duration) async throws {
        if autoAdvance {
            try Task.checkCancellation()
            state.withLock { s in
                s.sleeps.append(duration)
                s.sleepCount += 1
                s.elapsed += max(duration, .zero)
            }
            return
        }
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Bool = state.withLock { s in
                    s.sleeps.append(duration)
                    s.sleepCount += 1
                    if Task.isCancelled { return true }
                    if duration <= .zero { return true }
                    s.sleepers.append(Sleeper(id: id, deadline: s.elapsed + duration, continuation: continuation))
                    return false
                }
                if resumeNow {
                    if Task.isCancelled { continuation.resume(throwing: CancellationError()) } else { continuation.resume() }
                }
            }
        } onCancel: {
            let sleeper = state.withLock { s -> Sleeper? in
                guard let index = s.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return s.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward by `duration`, waking every sleeper whose deadline is reached.
    public func advance(by duration: Duration) {
        let due = state.withLock { s -> [Sleeper] in
            s.elapsed += duration
            let due = s.sleepers.filter { $0.deadline <= s.elapsed }.sorted { $0.deadline < $1.deadline }
            s.sleepers.removeAll { $0.deadline <= s.elapsed }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Waits (yielding, not sleeping) until at least `count` tasks sleep on this clock.
    /// Gives up after `spins` yields and returns false, so a broken test fails instead of hanging.
    @discardableResult
    public func waitForSleepers(_ count: Int = 1, spins: Int = 100_000) async -> Bool {
        for _ in 0..<spins {
            if sleeperCount >= count { return true }
            await Task.yield()
        }
        return sleeperCount >= count
    }

    /// Advances to the earliest sleeper's deadline (after waiting for one to exist).
    @discardableResult
    public func advanceToNextSleeper() async -> Bool {
        guard await waitForSleepers(1) else { return false }
        let next = state.withLock { s in s.sleepers.map(\.deadline).min().map { $0 - s.elapsed } }
        if let next { advance(by: max(next, .zero)) }
        return true
    }
}
