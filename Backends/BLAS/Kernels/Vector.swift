// Vector building blocks of the kernels: unaligned SIMD8<Float> loads and stores, zero-padded
// partial ones for tails, 2^x and the square root. All @inlinable and always inlined, so they are
// compiled for the instruction set of the kernel that uses them (VectorArithmetic.swift).

/// Loads, stores and math on Float8 shared by every kernel.
public enum Vector {
    /// Eight Floats from `pointer`, which need not be aligned.
    @inlinable @inline(__always)
    public static func load(_ pointer: UnsafePointer<Float>) -> Float8 {
        UnsafeRawPointer(pointer).loadUnaligned(as: Float8.self)
    }

    /// Stores the eight lanes at `pointer`, which need not be aligned.
    @inlinable @inline(__always)
    public static func store(_ value: Float8, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Float8.self)
    }

    /// The first `count` (< 8) elements; the other lanes 0.
    @inlinable @inline(__always)
    public static func load(_ pointer: UnsafePointer<Float>, count: Int) -> Float8 {
        var value = Float8()
        for lane in 0..<count { value[lane] = pointer[lane] }
        return value
    }

    /// Stores the first `count` (< 8) lanes.
    @inlinable @inline(__always)
    public static func store(_ value: Float8, _ pointer: UnsafeMutablePointer<Float>, count: Int) {
        for lane in 0..<count { pointer[lane] = value[lane] }
    }

    /// The largest lane (NaN lanes ignored unless all are NaN). Written out rather than the
    /// standard library's `max()`, whose specialisation the compiler may leave out of line: a
    /// weak symbol shared by name across modules, which the AVX2 module must not define.
    @inlinable @inline(__always)
    public static func maximum(_ v: Float8) -> Float {
        var m4 = v.lowHalf
        m4 = m4.replacing(with: v.highHalf, where: v.highHalf .> m4)
        var m2 = m4.lowHalf
        m2 = m2.replacing(with: m4.highHalf, where: m4.highHalf .> m2)
        return m2[1] > m2[0] ? m2[1] : m2[0]
    }

    /// 2^t per lane, relative error below 2.5e-7 (2 ulp) for t in [-126, 127]; 0 below -127, +inf
    /// above 128, NaN stays NaN. t = n + f with n = round(t) and f in [-1/2, 1/2]: 2^f from a
    /// degree-5 polynomial (a relative-error fit on that interval with the constant term held at
    /// 1, so 2^0 is exactly 1: 9.2e-8 in exact arithmetic, 1.8e-7 in float32; Horner in the
    /// kernel's multiply-add). Degree 6 was 1e-7, and 10% slower in GELU, whose
    /// loop is bound by the multiply-add units (20.9 against 23.0 GFLOP/s on one thread),
    /// 2^n built directly as the float with exponent field n + 127, which is 0 at n = -127 and
    /// +inf at n = 128, so the clamp alone makes underflow and overflow come out right.
    @inlinable @inline(__always)
    public static func exp2<A: VectorArithmetic>(_ t: Float8, _ arithmetic: A.Type) -> Float8 {
        let (mantissa, scale) = exp2Factors(t, A.self)
        return mantissa * scale
    }

    /// 1 + 2^t per lane, as exp2's two factors joined in one multiply-add: 2^f 2^n + 1. The product
    /// by the power of two 2^n is exact, so this rounds exactly as 1 + exp2(t) does, one dependent
    /// instruction sooner. (The sigmoids of GELU and SwiGLU are 1 / (1 + 2^t); their loops are
    /// bound by the latency of this chain, and GELU forward ran 15% faster for it.)
    @inlinable @inline(__always)
    public static func onePlusExp2<A: VectorArithmetic>(_ t: Float8, _ arithmetic: A.Type) -> Float8 {
        let (mantissa, scale) = exp2Factors(t, A.self)
        return A.multiplyAdd(mantissa, scale, Float8(repeating: 1))
    }

    /// 2^f (the polynomial) and 2^n (the exponent field) with 2^t = 2^f 2^n; see exp2.
    @inlinable @inline(__always)
    static func exp2Factors<A: VectorArithmetic>(_ t: Float8, _ arithmetic: A.Type) -> (Float8, Float8) {
        // Written as select(bound op t, bound, t), which the compiler emits as one min or max
        // (keeping NaN, which fails both comparisons).
        typealias C = Exp2Constants
        var clamped = t
        let upper = Float8(repeating: C.upper), lower = Float8(repeating: C.lower)
        clamped = clamped.replacing(with: upper, where: upper .< clamped)
        clamped = clamped.replacing(with: lower, where: lower .> clamped)
        // Adding 1.5 * 2^23 rounds to an integer and leaves it in the low mantissa bits (|t| < 2^22).
        let magic = Float8(repeating: C.magic)
        let shifted = clamped + magic
        let f = clamped - (shifted - magic)
        var p = Float8(repeating: C.c5)
        p = A.multiplyAdd(p, f, Float8(repeating: C.c4))
        p = A.multiplyAdd(p, f, Float8(repeating: C.c3))
        p = A.multiplyAdd(p, f, Float8(repeating: C.c2))
        p = A.multiplyAdd(p, f, Float8(repeating: C.c1))
        p = A.multiplyAdd(p, f, Float8(repeating: 1))
        // bits(shifted) - bits(magic) = n; the exponent field of 2^n is n + 127.
        let exponent = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- C.exponentOffset
        return (p, unsafeBitCast(exponent &<< 23, to: Float8.self))
    }

    /// The square root per lane, correctly rounded. One sqrtps where the calling module is
    /// compiled with -fno-math-errno (both kernel modules are, Package.swift); elsewhere the
    /// same result from a libm call per lane.
    @inlinable @inline(__always)
    public static func squareRoot(_ x: Float8) -> Float8 { x.squareRoot() }
}

/// exp2's constants: the clamp, the rounding constant, the exponent field's offset, and the
/// polynomial for 2^f on [-1/2, 1/2] (its constant term is 1). Shared with the 16-lane copy of
/// exp2 in BLASKernelsAVX512, so both round alike.
public enum Exp2Constants {
    /// t is clamped to [lower, upper]: 2^n is 0 at n = lower and +inf at n = upper.
    @inlinable public static var upper: Float { 128 }
    @inlinable public static var lower: Float { -127 }
    /// 1.5 * 2^23: t + magic rounds t to an integer n and leaves it in the low mantissa bits.
    @inlinable public static var magic: Float { 12_582_912 }
    /// bits(t + magic) - offset = n + 127, the exponent field of 2^n (shifted left by 23).
    @inlinable public static var exponentOffset: UInt32 { 0x4B40_0000 - 127 }
    @inlinable public static var c5: Float { 1.3264712790035042e-3 }
    @inlinable public static var c4: Float { 9.671510677751492e-3 }
    @inlinable public static var c3: Float { 5.5507337597034655e-2 }
    @inlinable public static var c2: Float { 2.402224211585501e-1 }
    @inlinable public static var c1: Float { 6.931469776058196e-1 }
}
