// The 16-lane vector (one zmm register), its memory and multiply-add operations and 2^x, for the
// AVX-512 module's kernels (WideGELUKernel, WideTileGEMM, WideAttentionRows). Concrete
// SIMD16<Float>: code generic over the vector width compiles to per-lane loops.

#if arch(x86_64)
import BLASKernels

/// Sixteen Float lanes: one zmm register.
typealias Lanes16 = SIMD16<Float>

/// Loads, stores and the fused multiply-add on Lanes16.
enum Wide {
    /// a * b + c in one rounding (vfmadd: this module is compiled with FMA).
    @_transparent
    static func multiplyAdd(_ a: Lanes16, _ b: Lanes16, _ c: Lanes16) -> Lanes16 { c.addingProduct(a, b) }

    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>) -> Lanes16 {
        UnsafeRawPointer(pointer).loadUnaligned(as: Lanes16.self)
    }

    @inline(__always)
    static func store(_ value: Lanes16, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Lanes16.self)
    }

    /// The first `count` (< 16) elements, the other lanes 0.
    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>, count: Int) -> Lanes16 {
        var value = Lanes16()
        for lane in 0..<count { value[lane] = pointer[lane] }
        return value
    }

    /// 2^f (the polynomial) and 2^n (the exponent field) with 2^t = 2^f 2^n: Vector.exp2Factors on
    /// 16 lanes, instruction for instruction and with its constants, so each lane rounds alike.
    @inline(__always)
    static func exp2Factors(_ t: Lanes16) -> (Lanes16, Lanes16) {
        typealias C = Exp2Constants
        var clamped = t
        let upper = Lanes16(repeating: C.upper), lower = Lanes16(repeating: C.lower)
        clamped = clamped.replacing(with: upper, where: upper .< clamped)
        clamped = clamped.replacing(with: lower, where: lower .> clamped)
        let magic = Lanes16(repeating: C.magic)
        let shifted = clamped + magic
        let f = clamped - (shifted - magic)
        var p = Lanes16(repeating: C.c5)
        p = multiplyAdd(p, f, Lanes16(repeating: C.c4))
        p = multiplyAdd(p, f, Lanes16(repeating: C.c3))
        p = multiplyAdd(p, f, Lanes16(repeating: C.c2))
        p = multiplyAdd(p, f, Lanes16(repeating: C.c1))
        p = multiplyAdd(p, f, Lanes16(repeating: 1))
        let exponent = unsafeBitCast(shifted, to: SIMD16<UInt32>.self) &- C.exponentOffset
        return (p, unsafeBitCast(exponent &<< 23, to: Lanes16.self))
    }

    /// Lanes at or past `live` (compared as Floats, one vector compare, as AttentionRows does).
    @inline(__always)
    static func deadLanes(from live: Int) -> SIMDMask<SIMD16<Int32>> {
        Lanes16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) .>= Lanes16(repeating: Float(live))
    }

    /// Stores the first `count` (< 16) lanes.
    @inline(__always)
    static func store(_ value: Lanes16, _ pointer: UnsafeMutablePointer<Float>, count: Int) {
        for lane in 0..<count { pointer[lane] = value[lane] }
    }
}
#endif
