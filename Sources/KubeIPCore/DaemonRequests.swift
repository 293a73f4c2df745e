import Synchronization

/// What the outside world asks of a running daemon (stop, reload), delivered as a signal of its
/// own rather than as task cancellation.
///
/// A request never interrupts work in flight: a claim round that has started (on GCE, a swap of
/// the interface's access config) runs to its end, bounded by its own timeouts. Requests end
/// *waits*: a ``pause(for:on:)`` returns early, and the engine gives control back to the daemon,
/// which then stops (releasing or keeping as configured) or reloads. Cancellation stays what it is
/// in Swift: the last resort of a caller whose stop deadline has passed.
///
/// A stop request is sticky (once asked, always asked); reloads are counted until taken.
public final class DaemonRequests: Sendable {
    private struct State {
        var stop = false
        var reloads = 0
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }
    private let state = Mutex(State())

    public init() {}

    /// Asks the daemon to stop: every current and future wait ends at once.
    public func requestStop() {
        wake { $0.stop = true }
    }

    /// Asks the daemon to re-read its configuration: the current wait ends.
    public func requestReload() {
        wake { $0.reloads += 1 }
    }

    /// Delivers a process signal as the matching request.
    public func deliver(_ signal: DaemonSignal) {
        switch signal {
        case .terminate: requestStop()
        case .reload: requestReload()
        }
    }

    /// Whether a stop has been asked for.
    public var isStopRequested: Bool { state.withLock { $0.stop } }

    /// Whether a stop or a reload waits to be handled.
    public var hasPending: Bool { state.withLock { $0.stop || $0.reloads > 0 } }

    /// Takes the pending reload requests (several count as one); false when there is none.
    public func takeReload() -> Bool {
        state.withLock { s in
            defer { s.reloads = 0 }
            return s.reloads > 0
        }
    }

    /// Sleeps for `duration` on `clock`, unless a request is pending or arrives first.
    /// - Returns: true when the whole duration passed; false when a request cut it short.
    /// - Throws: `CancellationError` when the calling task is cancelled.
    public func pause(for duration: Duration, on clock: any WallClock) async throws -> Bool {
        if hasPending { return false }
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await clock.sleep(for: duration)
                return true
            }
            group.addTask {
                await self.waitForRequest()
                return false
            }
            defer { group.cancelAll() }
            // The first child to finish decides; the other is cancelled (and ends promptly).
            let first = try await group.next()
            try Task.checkCancellation()
            return first == true && !hasPending
        }
    }

    /// Returns once a stop or reload is pending (at once when one already is), or when the
    /// calling task is cancelled.
    public func waitForRequest() async {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.stop || s.reloads > 0 || Task.isCancelled { return true }
                    s.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    private func wake(_ change: (inout State) -> Void) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            change(&s)
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// Thrown by the engine when a request (stop or reload) ended one of its waits: not a failure,
/// the daemon takes over and handles the request.
public struct Interrupted: Error, Sendable, Equatable, CustomStringConvertible {
    public init() {}
    public var description: String { "interrupted by a stop or reload request" }
}
