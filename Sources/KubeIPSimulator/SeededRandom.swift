import KubeIPCore
import Synchronization

/// A reproducible random source (SplitMix64): the same seed gives the same jitter.
public final class SeededRandom: RandomSource {
    private let state: Mutex<UInt64>

    public init(seed: UInt64 = 42) { state = Mutex(seed) }

    public func nextUnit() -> Double {
        let value = state.withLock { s -> UInt64 in
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        return Double(value >> 11) / Double(1 << 53)
    }
}

/// A "random" source that always answers the same value (0.5 = no jitter).
public struct FixedRandom: RandomSource {
    public let value: Double
    public init(_ value: Double = 0.5) { self.value = value }
    public func nextUnit() -> Double { value }
}
