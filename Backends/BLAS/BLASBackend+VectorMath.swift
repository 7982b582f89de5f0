// Vector building blocks for the BLAS backend's loops: unaligned SIMD8<Float> loads and stores,
// zero-padded partial loads for row tails (so tails run the same math as full vectors), and a
// vectorised exp accurate to about 2 ulp (Cephes expf), from which sigmoid and the GELU/SwiGLU
// activations are built. Plain multiply-add, never `addingProduct`: without FMA in the target
// baseline that would become a libcall per lane.

typealias Float8 = SIMD8<Float>

enum VectorMath {
    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>) -> Float8 {
        UnsafeRawPointer(pointer).loadUnaligned(as: Float8.self)
    }

    @inline(__always)
    static func load(_ pointer: UnsafeMutablePointer<Float>) -> Float8 {
        UnsafeRawPointer(pointer).loadUnaligned(as: Float8.self)
    }

    @inline(__always)
    static func store(_ value: Float8, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Float8.self)
    }

    /// The first `count` (< 8) elements, the other lanes `padding`.
    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>, count: Int, padding: Float = 0) -> Float8 {
        var value = Float8(repeating: padding)
        for lane in 0..<count { value[lane] = pointer[lane] }
        return value
    }

    /// Stores the first `count` (< 8) lanes.
    @inline(__always)
    static func store(_ value: Float8, _ pointer: UnsafeMutablePointer<Float>, count: Int) {
        for lane in 0..<count { pointer[lane] = value[lane] }
    }

    /// out[i] = a[i] + b[i] for i in `range`; `out` may be `a` or `b`.
    @inline(__always)
    static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                    _ range: Range<Int>) {
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            store(load(a + i) + load(b + i), out + i)
            i += 8
        }
        while i < range.upperBound {
            out[i] = a[i] + b[i]
            i += 1
        }
    }

    /// `count` (1...8) elements: a full vector load when count is 8, else zero-padded. Call it
    /// with a literal 8 in main loops: a runtime count merges both paths through memory.
    @inline(__always)
    static func load(_ pointer: UnsafeMutablePointer<Float>, upTo count: Int) -> Float8 {
        count == 8 ? load(pointer) : load(UnsafePointer(pointer), count: count)
    }

    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>, upTo count: Int) -> Float8 {
        count == 8 ? load(pointer) : load(pointer, count: count)
    }

    /// Stores `count` (1...8) lanes.
    @inline(__always)
    static func store(_ value: Float8, _ pointer: UnsafeMutablePointer<Float>, upTo count: Int) {
        if count == 8 { store(value, pointer) } else { store(value, pointer, count: count) }
    }

    /// e^x per lane: round(x / ln 2) = n, r = x - n ln 2 (split in two constants), a degree-6
    /// polynomial for e^r on [-ln2/2, ln2/2], times 2^n built from the exponent bits. Relative
    /// error about 2e-7; overflow gives +inf, underflow 0, NaN stays NaN.
    @_transparent
    static func exp(_ x: Float8) -> Float8 {
        let clamped = x.replacing(with: 88.3762626647949, where: x .> 88.3762626647949)
            .replacing(with: -87.3365478515625, where: x .< -87.3365478515625)
        // Adding 1.5 * 2^23 rounds to the nearest integer and leaves it in the low mantissa bits.
        let magic: Float = 12_582_912
        let shifted = clamped * 1.44269504088896341 + magic
        let n = shifted - magic
        let r = clamped - n * 0.693359375 - n * -2.12194440e-4
        var p: Float8 = Float8(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let expR = p * (r * r) + r + 1
        let exponent = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127
        let twoToN = unsafeBitCast(exponent &<< 23, to: Float8.self)
        return (expR * twoToN)
            .replacing(with: .infinity, where: x .> 88.72283905206835)
            .replacing(with: 0, where: x .< -87.3365478515625)
    }

    /// 1 / (1 + e^-x) per lane.
    @inline(__always)
    static func sigmoid(_ x: Float8) -> Float8 {
        1 / (1 + exp(-x))
    }

    /// Sum of `count` floats: SIMD partial sums, blocks folded into a Double so long reductions
    /// (a 100M-element gradient norm) keep Float-level relative accuracy.
    static func sumOfSquares(_ x: UnsafePointer<Float>, _ count: Int) -> Double {
        var total = 0.0
        var start = 0
        while start < count {
            let end = min(start + 4096, count)
            var accumulator = Float8()
            var i = start
            while i + 8 <= end {
                let v = load(x + i)
                accumulator += v * v
                i += 8
            }
            var tail: Float = 0
            while i < end {
                tail += x[i] * x[i]
                i += 1
            }
            total += Double(accumulator.sum() + tail)
            start = end
        }
        return total
    }
}
