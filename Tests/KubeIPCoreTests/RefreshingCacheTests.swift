import Foundation
import Synchronization
import KubeIPCore
import KubeIPSimulator
import Testing

@Suite struct RefreshingCacheTests {
    /// Loads counted, each answering the next number, fresh for `lifetime` seconds.
    private actor Loader {
        var loads = 0
        var failing = false
        func next() throws -> Int {
            loads += 1
            if failing { throw KubeIPError(.unavailable, "load \(loads) failed") }
            return loads
        }
        func fail(_ flag: Bool) { failing = flag }
    }

    /// A load that waits until ``open()`` is called, so that callers pile up behind it.
    private actor Gate {
        private var waiters: [CheckedContinuation<Void, Never>] = []
        private var opened = false
        private(set) var arrivals = 0
        func wait() async {
            arrivals += 1
            if opened { return }
            await withCheckedContinuation { waiters.append($0) }
        }
        func open() {
            opened = true
            for waiter in waiters { waiter.resume() }
            waiters.removeAll()
        }
    }

    @Test func servesTheCachedValueWhileFreshThenReloads() async throws {
        let clock = ManualClock()
        let cache = RefreshingCache<Int>(clock: clock)
        let loader = Loader()
        let until = clock.now.addingTimeInterval(60)
        let load: @Sendable () async throws -> RefreshingCache<Int>.Entry = { .init(try await loader.next(), freshUntil: until) }
        #expect(try await cache.value(load: load) == 1)
        clock.advance(by: .seconds(59))
        #expect(try await cache.value(load: load) == 1)
        #expect(await cache.current == 1)
        clock.advance(by: .seconds(1))
        #expect(await cache.current == nil)
        #expect(try await cache.value(load: load) == 2)
        #expect(await loader.loads == 2)
    }

    @Test func withoutAnExpiryTheValueLastsUntilInvalidated() async throws {
        let clock = ManualClock()
        let cache = RefreshingCache<Int>(clock: clock)
        let loader = Loader()
        let load: @Sendable () async throws -> RefreshingCache<Int>.Entry = { .init(try await loader.next(), freshUntil: nil) }
        #expect(try await cache.value(load: load) == 1)
        clock.advance(by: .seconds(86_400 * 365))
        #expect(try await cache.value(load: load) == 1)
        await cache.invalidate()
        #expect(try await cache.value(load: load) == 2)
    }

    @Test func invalidatingOnlyTheRefusedValue() async throws {
        let cache = RefreshingCache<Int>(clock: ManualClock())
        let loader = Loader()
        let load: @Sendable () async throws -> RefreshingCache<Int>.Entry = { .init(try await loader.next(), freshUntil: nil) }
        #expect(try await cache.value(load: load) == 1)
        await cache.invalidate(ifCurrent: 7)   // someone else's stale value: kept
        #expect(try await cache.value(load: load) == 1)
        await cache.invalidate(ifCurrent: 1)
        #expect(try await cache.value(load: load) == 2)
    }

    @Test func concurrentCallersShareOneLoad() async throws {
        let cache = RefreshingCache<Int>(clock: ManualClock())
        let loader = Loader()
        let gate = Gate()
        let load: @Sendable () async throws -> RefreshingCache<Int>.Entry = {
            await gate.wait()
            return .init(try await loader.next(), freshUntil: nil)
        }
        let values = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<10 { group.addTask { try await cache.value(load: load) } }
            // Let every caller reach the cache before the one load finishes.
            while await gate.arrivals == 0 { await Task.yield() }
            for _ in 0..<100 { await Task.yield() }
            await gate.open()
            var all: [Int] = []
            for try await value in group { all.append(value) }
            return all
        }
        #expect(values == Array(repeating: 1, count: 10))
        #expect(await loader.loads == 1)
        #expect(await gate.arrivals == 1)
    }

    @Test func aFailedLoadFailsEveryWaiterAndIsNotCached() async throws {
        let cache = RefreshingCache<Int>(clock: ManualClock())
        let loader = Loader()
        await loader.fail(true)
        let load: @Sendable () async throws -> RefreshingCache<Int>.Entry = { .init(try await loader.next(), freshUntil: nil) }
        await #expect(throws: KubeIPError.self) { try await cache.value(load: load) }
        await loader.fail(false)
        #expect(try await cache.value(load: load) == 2)
    }

    @Test func aFailedRefreshServesTheOldValueUntilItIsUnusable() async throws {
        let clock = ManualClock()
        let cache = RefreshingCache<Int>(clock: clock)
        let loader = Loader()
        let start = clock.now
        let load: @Sendable () async throws -> RefreshingCache<Int>.Entry = {
            .init(try await loader.next(), freshUntil: start.addingTimeInterval(10), usableUntil: start.addingTimeInterval(20))
        }
        #expect(try await cache.value(load: load) == 1)
        await loader.fail(true)
        clock.advance(by: .seconds(15))
        let reasons = Reasons()
        #expect(try await cache.value(onStale: { error, served in reasons.add("\(error) → \(served)") }, load: load) == 1)
        #expect(reasons.all == ["load 2 failed → 1"])
        clock.advance(by: .seconds(5))
        await #expect(throws: KubeIPError.self) { try await cache.value(load: load) }
    }

    private final class Reasons: Sendable {
        private let list = Mutex<[String]>([])
        func add(_ text: String) { list.withLock { $0.append(text) } }
        var all: [String] { list.withLock { $0 } }
    }
}
