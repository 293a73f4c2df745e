import Logging

/// Capped exponential backoff with jitter, for throttling and transient cloud errors.
public struct Backoff: Sendable, Equatable {
    /// Delay before the first retry.
    public var initial: Duration
    /// Growth per attempt.
    public var multiplier: Double
    /// Longest single delay.
    public var cap: Duration
    /// Retries before giving up (the first call is not counted).
    public var maxRetries: Int

    public init(initial: Duration = .milliseconds(200), multiplier: Double = 2, cap: Duration = .seconds(20),
                maxRetries: Int = 8) {
        self.initial = initial
        self.multiplier = multiplier
        self.cap = cap
        self.maxRetries = maxRetries
    }

    /// Delay before retry number `attempt` (0-based): "equal jitter", half fixed and half random,
    /// so that retries spread out yet never collapse to zero.
    public func delay(attempt: Int, random: any RandomSource) -> Duration {
        var base = initial.seconds
        for _ in 0..<max(0, attempt) { base = min(base * multiplier, cap.seconds) }
        base = min(base, cap.seconds)
        return .nanoseconds(Int64((base / 2 + base / 2 * random.nextUnit()) * 1e9))
    }

    /// Spreads a fixed interval by ±`fraction` (RETRY_INTERVAL's jitter).
    public static func jittered(_ interval: Duration, fraction: Double, random: any RandomSource) -> Duration {
        interval.scaled(by: 1 + fraction * (2 * random.nextUnit() - 1))
    }

    /// Runs `operation`, retrying retryable ``KubeIPError``s with this backoff.
    /// `onRetry` sees each error and the delay before the next try (for logging).
    public func run<T: Sendable>(
        clock: any WallClock, random: any RandomSource,
        onRetry: (KubeIPError, Duration) -> Void = { _, _ in },
        _ operation: () async throws -> T
    ) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await operation()
            } catch let error as KubeIPError where error.isRetryable && attempt < maxRetries {
                let pause = delay(attempt: attempt, random: random)
                onRetry(error, pause)
                try await clock.sleep(for: pause)
                attempt += 1
            }
        }
    }
}

extension Backoff {
    /// ``run(clock:random:onRetry:_:)`` that logs each retry at debug level with `metadata`,
    /// the error's code and the pause before the next try.
    public func run<T: Sendable>(clock: any WallClock, random: any RandomSource, logger: Logger,
                                 _ message: Logger.Message, _ metadata: Logger.Metadata,
                                 _ operation: () async throws -> T) async throws -> T {
        try await run(clock: clock, random: random, onRetry: { error, pause in
            var details = metadata
            details["error"] = "\(error.code)"
            details["retry_in_ms"] = "\(Int(pause.seconds * 1000))"
            logger.debug(message, metadata: details)
        }, operation)
    }
}
