// The vector kernels compiled for AVX2 with FMA (this target's build settings in Package.swift).
// Each entry point instantiates a kernel of BLASKernels with AVX2Arithmetic, so its whole loop is
// compiled here: 8-lane ymm registers, fused multiply-adds, 32-bit lane multiplies.
//
// Nothing in this module may run on a CPU without AVX2 and FMA: the BLAS backend reaches it only
// through VectorKernels.avx2, which it builds after checking CPUID (see BLASBackend+Kernels.swift).

#if arch(x86_64)
import BLASKernels

/// Fused multiply-add with 16 ymm registers: BLASKernels' FusedMultiplyAdd, declared again here so
/// that every generic specialisation made for it is named after this module. Specialisations the
/// optimizer does not inline are weak symbols that the linker merges by name across modules; one
/// made here for a shared type could stand in for a baseline module's (or the reverse), and then
/// AVX2 code would run on a CPU without it.
enum AVX2Arithmetic: VectorArithmetic {
    @_transparent
    static func multiplyAdd(_ a: Float8, _ b: Float8, _ c: Float8) -> Float8 { c.addingProduct(a, b) }
    @_transparent
    static var float8Registers: Int { 16 }
}

/// The kernels instantiated for AVX2 with FMA; call only after VectorKernels' CPUID check.
public enum AVX2Kernels {
    /// GELUKernel.forward over input[0..<count] into out.
    public static func geluForward(_ input: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
        GELUKernel.forward(AVX2Arithmetic.self, input: input, out: out, count: count)
    }

    /// LayerNormKernel.forward over one block of rows.
    public static func layerNormForward(_ block: LayerNormKernel.Rows, _ epsilon: Float, _ out: UnsafeMutablePointer<Float>) {
        LayerNormKernel.forward(AVX2Arithmetic.self, block, epsilon: epsilon, out: out)
    }

    /// LayerNormKernel.backward over one block of rows, into its partial dweight and dbias.
    public static func layerNormBackward(_ block: LayerNormKernel.Rows, _ dout: UnsafePointer<Float>,
                                         _ dinput: UnsafeMutablePointer<Float>, _ dweight: UnsafeMutablePointer<Float>,
                                         _ dbias: UnsafeMutablePointer<Float>?) {
        LayerNormKernel.backward(AVX2Arithmetic.self, block, dout: dout, dinput: dinput, dweight: dweight, dbias: dbias)
    }

    /// GELUKernel.backward over count elements.
    public static func geluBackward(_ input: UnsafePointer<Float>, _ dout: UnsafePointer<Float>,
                                    _ dinput: UnsafeMutablePointer<Float>, _ count: Int) {
        GELUKernel.backward(AVX2Arithmetic.self, input: input, dout: dout, dinput: dinput, count: count)
    }

    /// AdamWKernel.update over count parameters.
    public static func adamW(_ step: AdamWStep, _ parameters: UnsafeMutablePointer<Float>,
                             _ gradients: UnsafePointer<Float>, _ firstMoment: UnsafeMutablePointer<Float>,
                             _ secondMoment: UnsafeMutablePointer<Float>, _ count: Int) {
        AdamWKernel.update(AVX2Arithmetic.self, step, parameters: parameters, gradients: gradients,
                           firstMoment: firstMoment, secondMoment: secondMoment, count: count)
    }

    /// DropoutKernel.apply over count elements, the first with mask index `first`.
    public static func dropout(_ mask: DropoutMask, _ input: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                               _ first: Int, _ count: Int) {
        DropoutKernel.apply(mask, input: input, out: out, first: first, count: count)
    }

    /// SwiGLUKernel.forward over one row of count hidden units.
    public static func swigluForward(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>,
                                     _ out: UnsafeMutablePointer<Float>, _ count: Int) {
        SwiGLUKernel.forward(AVX2Arithmetic.self, gate: gate, up: up, out: out, count: count)
    }

    /// SwiGLUKernel.backward over one row of count hidden units.
    public static func swigluBackward(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>,
                                      _ dout: UnsafePointer<Float>, _ dgate: UnsafeMutablePointer<Float>,
                                      _ dup: UnsafeMutablePointer<Float>, _ count: Int) {
        SwiGLUKernel.backward(AVX2Arithmetic.self, gate: gate, up: up, dout: dout, dgate: dgate, dup: dup,
                              count: count)
    }

    /// AttentionKernel.forward for one pair; `scratch` holds AttentionKernel.forwardScratch Floats.
    public static func attentionForward(_ pair: AttentionPair, _ scratch: UnsafeMutablePointer<Float>) {
        AttentionKernel.forward(AVX2Arithmetic.self, pair, scratch: scratch)
    }

    /// AttentionBackwardKernel.backward for one group; `scratch` holds AttentionBackwardKernel.scratch Floats.
    public static func attentionBackward(_ group: AttentionGroup, _ scratch: UnsafeMutablePointer<Float>) {
        AttentionBackwardKernel.backward(AVX2Arithmetic.self, group, scratch: scratch)
    }
}
#endif
