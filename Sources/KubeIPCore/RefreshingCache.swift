#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One cached value that expires (an access token, temporary credentials, a token file's
/// contents), loaded by one caller at a time: concurrent callers that find it stale share a
/// single load (single flight) instead of each fetching their own.
///
/// - A value is served while the clock is before its ``Entry/freshUntil`` (nil: until
///   ``invalidate()``).
/// - When a refresh fails, the previous value is still served while the clock is before its
///   ``Entry/usableUntil`` (nil: never), and `onStale` is told why and what it serves; otherwise the error is thrown
///   to every caller that waited for that load.
/// - A load runs in its own task, so one caller's cancellation never fails a load that others
///   wait for.
public actor RefreshingCache<Value: Sendable> {
    /// A loaded value and how long it may be used.
    public struct Entry: Sendable {
        public var value: Value
        /// Served from the cache until then; nil: until invalidated.
        public var freshUntil: Date?
        /// After a failed refresh, still served until then; nil: not at all.
        public var usableUntil: Date?

        public init(_ value: Value, freshUntil: Date?, usableUntil: Date? = nil) {
            self.value = value
            self.freshUntil = freshUntil
            self.usableUntil = usableUntil
        }
    }

    private let clock: any WallClock
    private var entry: Entry?
    private var loading: Task<Entry, any Error>?

    /// An empty cache on `clock`.
    public init(clock: any WallClock) {
        self.clock = clock
    }

    /// The cached value while fresh, else the result of `load` (shared with every caller that
    /// arrives while it runs).
    public func value(onStale: @Sendable (_ error: any Error, _ served: Value) -> Void = { _, _ in },
                      load: @escaping @Sendable () async throws -> Entry) async throws -> Value {
        if let entry, isFresh(entry) { return entry.value }
        let previous = entry
        let task: Task<Entry, any Error>
        if let loading {
            task = loading
        } else {
            task = Task { try await load() }
            loading = task
        }
        let result = await task.result
        // The first waiter back keeps the result, unless the cache was invalidated meanwhile.
        if loading == task {
            loading = nil
            if case .success(let fresh) = result { entry = fresh }
        }
        switch result {
        case .success(let fresh):
            return fresh.value
        case .failure(let error):
            if let previous, let until = previous.usableUntil, clock.now < until {
                onStale(error, previous.value)
                return previous.value
            }
            throw error
        }
    }

    /// The cached value without loading, when there is one that is still fresh.
    public var current: Value? {
        guard let entry, isFresh(entry) else { return nil }
        return entry.value
    }

    /// Forgets the cached value: the next caller loads a new one (a load already running is
    /// not cancelled, but its result is not kept).
    public func invalidate() {
        entry = nil
        loading = nil
    }

    private func isFresh(_ entry: Entry) -> Bool {
        guard let until = entry.freshUntil else { return true }
        return clock.now < until
    }
}

extension RefreshingCache where Value: Equatable {
    /// Forgets the cached value only if it is still `value` (the one a server just refused), so
    /// that several callers refused at once cause one reload, not one each.
    public func invalidate(ifCurrent value: Value) {
        if entry?.value == value { invalidate() }
    }
}
