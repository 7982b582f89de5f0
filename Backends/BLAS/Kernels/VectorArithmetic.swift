// The BLAS backend's vector kernels are written once and compiled twice. Swift on Linux targets
// baseline x86-64 (SSE2: SIMD8<Float> is two 4-lane halves, no FMA), and the binary must run on any
// x86-64 CPU, so the wider instructions live in a module of their own: every kernel here is
// generic over `VectorArithmetic` and @inlinable, so a caller compiles it for the caller's target.
// The backend specialises them for the baseline with `SeparateMultiplyAdd`; BLASKernelsAVX2, built
// with AVX2 and FMA enabled, specialises the same source with `FusedMultiplyAdd`, and the backend
// calls into it only on a CPU that has both (VectorKernels in the backend decides, once).
//
// Why the multiply-add is a type parameter and not an expression: Swift never fuses a * b + c, so
// written that way the AVX2 build would leave half its arithmetic unused; and `addingProduct`
// without FMA in the target becomes a libm call per lane, so the baseline build must never use it.

/// The kernels' vector: eight Float lanes (one ymm register on AVX2, two xmm on SSE2).
public typealias Float8 = SIMD8<Float>

/// How a kernel computes a * b + c per lane, and how many Float8 values the target's registers hold
/// (what a register-blocked kernel may keep live without spilling); and the attention kernels'
/// products and row loops, which a build with wider vectors replaces.
public protocol VectorArithmetic {
    /// a * b + c per lane.
    static func multiplyAdd(_ a: Float8, _ b: Float8, _ c: Float8) -> Float8
    /// How many Float8 values the target's vector registers hold.
    static var float8Registers: Int { get }
    /// C = alpha A B or C += alpha A B, the small products of the attention kernels, with
    /// TileGEMM.multiply's contract. TileGEMM's Float8 blocks unless the build brings wider ones.
    static func tileMultiply(m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, rowStride: Int,
                             columnStride: Int, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>,
                             ldc: Int, accumulate: Bool)
    /// The attention forward's row of exponentials and its sum, AttentionRows.exponentiate's
    /// contract; that 8-lane loop unless the build brings a wider one.
    static func exponentiateRow(_ row: UnsafeMutablePointer<Float>, count: Int, width: Int, shift: Float) -> Float
    /// The attention backward's row of P and dS, AttentionBackwardKernel.softmaxGradientRow's
    /// contract; that 8-lane loop unless the build brings a wider one.
    static func softmaxGradientRow(probabilities: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                                   visible: Int, width: Int, shift: Float, rowDot: Float)
}

extension VectorArithmetic {
    /// TileGEMM.multiply in this arithmetic.
    @inlinable @inline(__always)
    public static func tileMultiply(m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, rowStride: Int,
                                    columnStride: Int, b: UnsafePointer<Float>, ldb: Int,
                                    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        TileGEMM.multiply(Self.self, m: m, n: n, k: k, alpha: alpha, a: a, rowStride: rowStride,
                          columnStride: columnStride, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
    }

    /// AttentionRows.exponentiate in this arithmetic.
    @inlinable @inline(__always)
    public static func exponentiateRow(_ row: UnsafeMutablePointer<Float>, count: Int, width: Int,
                                       shift: Float) -> Float {
        AttentionRows.exponentiate(Self.self, row, count: count, width: width, shift: shift)
    }

    /// AttentionBackwardKernel.softmaxGradientRow in this arithmetic.
    @inlinable @inline(__always)
    public static func softmaxGradientRow(probabilities: UnsafeMutablePointer<Float>,
                                          gradients: UnsafeMutablePointer<Float>,
                                          visible: Int, width: Int, shift: Float, rowDot: Float) {
        AttentionBackwardKernel.softmaxGradientRow(Self.self, probabilities: probabilities, gradients: gradients,
                                                   visible: visible, width: width, shift: shift, rowDot: rowDot)
    }
}

/// A multiply, then an add (two roundings): for targets without FMA (x86-64's 16 xmm registers
/// hold 8 Float8 values).
public enum SeparateMultiplyAdd: VectorArithmetic {
    /// a * b + c, rounded twice.
    @_transparent
    public static func multiplyAdd(_ a: Float8, _ b: Float8, _ c: Float8) -> Float8 { a * b + c }
    /// Eight: 16 xmm registers, two per Float8.
    @_transparent
    public static var float8Registers: Int { 8 }
}

/// One fused multiply-add (one rounding): for targets with FMA (AVX2's 16 ymm registers, or 64-bit
/// ARM's 32 q registers, hold 16 Float8 values).
public enum FusedMultiplyAdd: VectorArithmetic {
    /// a * b + c, rounded once.
    @_transparent
    public static func multiplyAdd(_ a: Float8, _ b: Float8, _ c: Float8) -> Float8 { c.addingProduct(a, b) }
    /// Sixteen: 16 ymm (or 32 q) registers.
    @_transparent
    public static var float8Registers: Int { 16 }
}

/// The arithmetic of the target every build has: FMA is part of the 64-bit ARM baseline, not of
/// x86-64's.
#if arch(arm64)
/// Fused on 64-bit ARM, whose baseline has FMA.
public typealias BaselineArithmetic = FusedMultiplyAdd
#else
/// Separate on x86-64, whose baseline (SSE2) has no FMA.
public typealias BaselineArithmetic = SeparateMultiplyAdd
#endif
