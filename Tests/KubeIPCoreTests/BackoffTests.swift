import KubeIPCore
import KubeIPSimulator
import Testing

@Suite struct BackoffTests {
    @Test func delaysGrowAndAreCapped() {
        let backoff = Backoff(initial: .seconds(1), multiplier: 2, cap: .seconds(8), maxRetries: 10)
        let top = FixedRandom(0.999_999)
        let delays = (0..<6).map { backoff.delay(attempt: $0, random: top).seconds.rounded() }
        #expect(delays == [1, 2, 4, 8, 8, 8])
        // Equal jitter never goes below half the step.
        #expect(backoff.delay(attempt: 2, random: FixedRandom(0)) == .seconds(2))
    }

    @Test func retriesOnlyRetryableErrorsOnTheInjectedClock() async throws {
        let clock = ManualClock(autoAdvance: true)
        let backoff = Backoff(initial: .seconds(1), multiplier: 2, cap: .seconds(30), maxRetries: 3)
        let attempts = Counter()
        let value = try await backoff.run(clock: clock, random: FixedRandom(0)) {
            if await attempts.next() < 3 { throw KubeIPError(.throttled, "RequestLimitExceeded") }
            return 42
        }
        #expect(value == 42)
        #expect(clock.sleeps == [.milliseconds(500), .seconds(1), .seconds(2)])

        let fatal = Counter()
        await #expect(throws: KubeIPError.self) {
            try await backoff.run(clock: clock, random: FixedRandom(0)) { () async throws -> Int in
                _ = await fatal.next()
                throw KubeIPError(.permissionDenied, "no")
            }
        }
        #expect(await fatal.value == 1)
    }

    @Test func givesUpAfterMaxRetries() async {
        let backoff = Backoff(initial: .seconds(1), maxRetries: 2)
        let calls = Counter()
        let error = await #expect(throws: KubeIPError.self) {
            try await backoff.run(clock: ManualClock(autoAdvance: true), random: FixedRandom()) { () async throws -> Int in
                _ = await calls.next()
                throw KubeIPError(.unavailable, "503")
            }
        }
        #expect(error?.code == .unavailable)
        #expect(await calls.value == 3)
    }

    @Test func jitterStaysInRange() {
        let low = Backoff.jittered(.seconds(60), fraction: 0.2, random: FixedRandom(0))
        let high = Backoff.jittered(.seconds(60), fraction: 0.2, random: FixedRandom(0.999_999))
        #expect(low == .seconds(48))
        #expect(high.seconds > 71.9 && high.seconds <= 72)
    }
}

actor Counter {
    private(set) var value = 0
    func next() -> Int { value += 1; return value - 1 }
}

