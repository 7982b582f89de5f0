// The vector kernels that gain from AVX-512 (this target's build settings in Package.swift add
// AVX-512 F, DQ, CD, BW and VL to AVX2 and FMA): GELU on 16 lanes, and the fused attention with
// its register-blocked products and its rows of exponentials on 16 lanes (WideTileGEMM and
// WideAttentionRows, through AVX512Arithmetic's `tileMultiply`, `exponentiateRow` and
// `softmaxGradientRow`). Every other kernel of the AVX-512 build is the AVX2 module's
// (VectorKernels in the backend assembles the table).
//
// Nothing in this module may run on a CPU without AVX-512: the BLAS backend reaches it only
// through VectorKernels.avx512, which it builds after checking CPUID and XCR0.

#if arch(x86_64)
import BLASKernels

/// Fused multiply-add with 32 vector registers (EVEX encodings reach ymm16-31), and the attention's
/// products and row exponentials on 16 lanes. Declared in this module, not shared, for the reason
/// AVX2Arithmetic is: a specialisation the linker merged by name with another module's could run
/// AVX-512 code on a CPU without it, or the reverse.
enum AVX512Arithmetic: VectorArithmetic {
    @_transparent
    static func multiplyAdd(_ a: Float8, _ b: Float8, _ c: Float8) -> Float8 { c.addingProduct(a, b) }
    @_transparent
    static var float8Registers: Int { 32 }
    /// WideTileGEMM's 16-lane blocks (TileGEMM's for the last columns under 32).
    @inline(__always)
    static func tileMultiply(m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, rowStride: Int,
                             columnStride: Int, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>,
                             ldc: Int, accumulate: Bool) {
        WideTileGEMM.multiply(Self.self, m: m, n: n, k: k, alpha: alpha, a: a, rowStride: rowStride,
                              columnStride: columnStride, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
    }

    /// WideAttentionRows' 16-lane exponentials.
    @inline(__always)
    static func exponentiateRow(_ row: UnsafeMutablePointer<Float>, count: Int, width: Int, shift: Float) -> Float {
        WideAttentionRows.exponentiate(row, count: count, width: width, shift: shift)
    }

    /// WideAttentionRows' 16-lane P and dS.
    @inline(__always)
    static func softmaxGradientRow(probabilities: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                                   visible: Int, width: Int, shift: Float, rowDot: Float) {
        WideAttentionRows.softmaxGradientRow(probabilities: probabilities, gradients: gradients, visible: visible,
                                             width: width, shift: shift, rowDot: rowDot)
    }
}

/// The AVX-512 kernels; call only after VectorKernels' CPUID check.
public enum AVX512Kernels {
    /// AttentionKernel.forward for one pair; `scratch` holds AttentionKernel.forwardScratch Floats.
    public static func attentionForward(_ pair: AttentionPair, _ scratch: UnsafeMutablePointer<Float>) {
        AttentionKernel.forward(AVX512Arithmetic.self, pair, scratch: scratch)
    }

    /// AttentionBackwardKernel.backward for one group; `scratch` holds AttentionBackwardKernel.scratch Floats.
    public static func attentionBackward(_ group: AttentionGroup, _ scratch: UnsafeMutablePointer<Float>) {
        AttentionBackwardKernel.backward(AVX512Arithmetic.self, group, scratch: scratch)
    }

    /// WideGELUKernel.forward over input[0..<count] into out.
    public static func geluForward(_ input: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
        WideGELUKernel.forward(input: input, out: out, count: count)
    }

    /// WideGELUKernel.backward over count elements.
    public static func geluBackward(_ input: UnsafePointer<Float>, _ dout: UnsafePointer<Float>,
                                    _ dinput: UnsafeMutablePointer<Float>, _ count: Int) {
        WideGELUKernel.backward(input: input, dout: dout, dinput: dinput, count: count)
    }
}
#endif
