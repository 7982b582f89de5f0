// The 16-lane vector (one zmm register) and its memory and multiply-add operations, for the
// AVX-512 module's kernels (WideGELUKernel, WideTileGEMM). Concrete SIMD16<Float>: code generic
// over the vector width compiles to per-lane loops.

#if arch(x86_64)
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

    /// Stores the first `count` (< 16) lanes.
    @inline(__always)
    static func store(_ value: Lanes16, _ pointer: UnsafeMutablePointer<Float>, count: Int) {
        for lane in 0..<count { pointer[lane] = value[lane] }
    }
}
#endif
