// Counter-based random numbers: a pure function of (seed, index), so every backend (Swift loops,
// OpenCL work-items in any order) draws the identical dropout mask. 32-bit integer ops only, so the
// OpenCL kernel (activations_dropout in Kernels/activations.cl) mirrors it exactly; keep the two in step.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Stateless random numbers indexed by (seed, element): the dropout mask every backend draws alike.
/// The same seed and index give the same bits on every backend and thread order.
public enum CounterRNG {
    /// A 32-bit integer finalizer ("lowbias32": xorshift-multiply, good avalanche, cheap on GPUs).
    @inline(__always)
    public static func hash32(_ value: UInt32) -> UInt32 {
        var x = value
        x ^= x >> 16
        x &*= 0x7feb_352d
        x ^= x >> 15
        x &*= 0x846c_a68b
        x ^= x >> 16
        return x
    }

    /// 32 random bits for element `index` of the stream `seed`.
    @inline(__always)
    public static func bits(seed: UInt64, index: UInt32) -> UInt32 {
        let low = UInt32(truncatingIfNeeded: seed)
        let high = UInt32(truncatingIfNeeded: seed >> 32)
        return hash32(hash32(index ^ hash32(low)) ^ hash32(high &+ 0x9e37_79b9))
    }

    /// Uniform in [0, 1) with 24 random bits (exactly representable in Float32).
    @inline(__always)
    public static func uniform(seed: UInt64, index: UInt32) -> Float {
        Float(bits(seed: seed, index: index) >> 8) * (1.0 / 16_777_216.0)
    }

    /// Mixes several stream coordinates (training seed, step, layer, site) into one dropout seed.
    public static func seed(_ parts: UInt64...) -> UInt64 {
        var state: UInt64 = 0x243f_6a88_85a3_08d3
        for part in parts {
            var generator = SplitMix64(seed: state ^ part)
            state = generator.next()
        }
        return state
    }
}

/// SplitMix64: a small, fast, seedable host-side generator (parameter init, batch sampling, tests).
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    /// A stream fully determined by `seed`: the same seed gives the same sequence on every machine.
    public init(seed: UInt64) { state = seed }

    /// The next 64 uniformly distributed bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Uniform Double in [0, 1) with 53 bits.
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Standard normal (Box-Muller; one value per call, deterministic).
    public mutating func nextNormal() -> Double {
        let u1 = max(nextUniform(), 1e-300)
        let u2 = nextUniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
