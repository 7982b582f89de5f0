// The vector kernels compiled for AVX2 with FMA (this target's build settings in Package.swift).
// Each entry point instantiates a kernel of BLASKernels (with FusedMultiplyAdd where it multiplies
// and adds), so its whole loop is compiled here: 8-lane ymm registers, fused multiply-adds, 32-bit
// lane multiplies.
//
// Nothing in this module may run on a CPU without AVX2 and FMA: the BLAS backend reaches it only
// through VectorKernels.avx2, which it builds after checking CPUID (see BLASBackend+Kernels.swift).

#if arch(x86_64)
import BLASKernels

public enum AVX2Kernels {
    public static func geluForward(_ input: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
        GELUKernel.forward(FusedMultiplyAdd.self, input: input, out: out, count: count)
    }

    public static func geluBackward(_ input: UnsafePointer<Float>, _ dout: UnsafePointer<Float>,
                                    _ dinput: UnsafeMutablePointer<Float>, _ count: Int) {
        GELUKernel.backward(FusedMultiplyAdd.self, input: input, dout: dout, dinput: dinput, count: count)
    }

    public static func adamW(_ step: AdamWStep, _ parameters: UnsafeMutablePointer<Float>,
                             _ gradients: UnsafePointer<Float>, _ firstMoment: UnsafeMutablePointer<Float>,
                             _ secondMoment: UnsafeMutablePointer<Float>, _ count: Int) {
        AdamWKernel.update(FusedMultiplyAdd.self, step, parameters: parameters, gradients: gradients,
                           firstMoment: firstMoment, secondMoment: secondMoment, count: count)
    }

    public static func dropout(_ mask: DropoutMask, _ input: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                               _ first: Int, _ count: Int) {
        DropoutKernel.apply(mask, input: input, out: out, first: first, count: count)
    }

    public static func swigluForward(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>,
                                     _ out: UnsafeMutablePointer<Float>, _ count: Int) {
        SwiGLUKernel.forward(FusedMultiplyAdd.self, gate: gate, up: up, out: out, count: count)
    }

    public static func swigluBackward(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>,
                                      _ dout: UnsafePointer<Float>, _ dgate: UnsafeMutablePointer<Float>,
                                      _ dup: UnsafeMutablePointer<Float>, _ count: Int) {
        SwiGLUKernel.backward(FusedMultiplyAdd.self, gate: gate, up: up, dout: dout, dgate: dgate, dup: dup,
                              count: count)
    }
}
#endif
