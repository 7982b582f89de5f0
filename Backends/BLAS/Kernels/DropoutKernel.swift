// Counter-based dropout over a contiguous range, eight lanes at a time: element i is kept when
// uniform(seed, i) >= p, with CounterRNG's hash (Sources/Compute/CounterRNG.swift) done in exactly
// its 32-bit integer steps, so the mask is the reference's bit for bit. Its two 32-bit multiplies
// per hash are where the time goes: SSE2 has no 32-bit lane multiply (pmuludq and shuffles stand
// in), AVX2 has vpmulld, so this kernel too is built twice (VectorArithmetic.swift).

/// The per-call constants of one dropout map.
public struct DropoutMask {
    /// 1 / (1 - p), the scale of kept elements.
    public var keepScale: Float
    /// Element i is kept when uniform(seed, i) = (bits >> 8) / 2^24 >= p, that is when the integer
    /// bits >> 8 (below 2^24) is at least ceil(p 2^24): the same test, exactly, without a
    /// conversion to Float per lane.
    public var keepThreshold: Int32
    /// CounterRNG.bits(seed, i) = hash(hash(i ^ streamLow) ^ streamHigh): the two seed halves,
    /// already hashed once (by the backend, from CounterRNG).
    public var streamLow: UInt32, streamHigh: UInt32

    /// The constants for drop probability `probability` (< 1) and the seed's hashed halves.
    public init(probability: Float, streamLow: UInt32, streamHigh: UInt32) {
        keepScale = 1 / (1 - probability)
        keepThreshold = Int32((Double(probability) * 16_777_216).rounded(.up))
        self.streamLow = streamLow
        self.streamHigh = streamHigh
    }
}

/// Counter-based dropout over contiguous ranges, in any arithmetic.
public enum DropoutKernel {
    /// out[j] = keep(first + j) ? input[j] / (1 - p) : 0 for j < count; `out` may be `input`.
    /// `first` is the element index of input[0] in the whole tensor (the mask's counter).
    @inlinable @inline(__always)
    public static func apply(_ mask: DropoutMask, input: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                             first: Int, count: Int) {
        let lanes = SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7)
        let keepScale = Float8(repeating: mask.keepScale), threshold = SIMD8<Int32>(repeating: mask.keepThreshold)
        @inline(__always) func dropout(_ x: Float8, at index: Int) -> Float8 {
            let counter = SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: index)) &+ lanes
            let bits = hash32(hash32(counter ^ mask.streamLow) ^ mask.streamHigh)
            let keep = SIMD8<Int32>(truncatingIfNeeded: bits &>> 8) .>= threshold
            return Float8().replacing(with: x * keepScale, where: keep)
        }
        var j = 0
        while j + 8 <= count {
            Vector.store(dropout(Vector.load(input + j), at: first + j), out + j)
            j += 8
        }
        if j < count {
            Vector.store(dropout(Vector.load(input + j, count: count - j), at: first + j), out + j, count: count - j)
        }
    }

    /// CounterRNG.hash32 on eight lanes. The multiplies are spelled vector times vector: the
    /// compound `&*=` with a scalar is a per-lane loop that the compiler left scalar in the
    /// baseline build.
    @inlinable @inline(__always)
    static func hash32(_ value: SIMD8<UInt32>) -> SIMD8<UInt32> {
        var x = value
        x ^= x &>> 16
        x = x &* SIMD8(repeating: 0x7feb_352d)
        x ^= x &>> 15
        x = x &* SIMD8(repeating: 0x846c_a68b)
        x ^= x &>> 16
        return x
    }
}
