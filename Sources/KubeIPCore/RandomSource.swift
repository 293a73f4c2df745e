/// Randomness, injected so that jitter and spreading are reproducible in tests.
public protocol RandomSource: Sendable {
    /// A uniformly distributed value in `0..<1`.
    func nextUnit() -> Double
}

/// The system's random number generator.
public struct SystemRandom: RandomSource {
    public init() {}
    public func nextUnit() -> Double { Double.random(in: 0..<1) }
}
