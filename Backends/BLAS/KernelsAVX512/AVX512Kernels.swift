// The vector kernels that gain from AVX-512 (this target's build settings in Package.swift add
// AVX-512 F, DQ, CD, BW and VL to AVX2 and FMA): GELU, on 16 lanes. Every other kernel of the
// AVX-512 build is the AVX2 module's (VectorKernels in the backend assembles the table).
//
// Nothing in this module may run on a CPU without AVX-512: the BLAS backend reaches it only
// through VectorKernels.avx512, which it builds after checking CPUID and XCR0.

#if arch(x86_64)
/// The 16-lane kernels; call only after VectorKernels' CPUID check.
public enum AVX512Kernels {
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
