/// Runs `body`, giving up on it once `limit` has passed on `clock`: the body is cancelled and nil
/// is returned (once it has ended: `body` must honour cancellation). For the last steps of a stop, which must end within the service manager's
/// `TimeoutStopSec` (or the pod's grace period) whatever the network does.
public func withDeadline<T: Sendable>(_ limit: Duration, on clock: any WallClock,
                                      _ body: @escaping @Sendable () async throws -> T) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await clock.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { return nil }
        return first
    }
}
