// The vector kernels compiled for the baseline target (x86-64: SSE2, no FMA), which every CPU
// runs: the fallback, and the path tests force to check it on machines that have AVX2.

/// The kernels instantiated for the baseline arithmetic, compiled into BLASKernels itself.
public enum PortableKernels {
    /// GELUKernel.forward over input[0..<count] into out.
    public static func geluForward(_ input: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
        GELUKernel.forward(BaselineArithmetic.self, input: input, out: out, count: count)
    }

    /// GELUKernel.backward over count elements.
    public static func geluBackward(_ input: UnsafePointer<Float>, _ dout: UnsafePointer<Float>,
                                    _ dinput: UnsafeMutablePointer<Float>, _ count: Int) {
        GELUKernel.backward(BaselineArithmetic.self, input: input, dout: dout, dinput: dinput, count: count)
    }

    /// AdamWKernel.update over count parameters.
    public static func adamW(_ step: AdamWStep, _ parameters: UnsafeMutablePointer<Float>,
                             _ gradients: UnsafePointer<Float>, _ firstMoment: UnsafeMutablePointer<Float>,
                             _ secondMoment: UnsafeMutablePointer<Float>, _ count: Int) {
        AdamWKernel.update(BaselineArithmetic.self, step, parameters: parameters, gradients: gradients,
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
        SwiGLUKernel.forward(BaselineArithmetic.self, gate: gate, up: up, out: out, count: count)
    }

    /// SwiGLUKernel.backward over one row of count hidden units.
    public static func swigluBackward(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>,
                                      _ dout: UnsafePointer<Float>, _ dgate: UnsafeMutablePointer<Float>,
                                      _ dup: UnsafeMutablePointer<Float>, _ count: Int) {
        SwiGLUKernel.backward(BaselineArithmetic.self, gate: gate, up: up, dout: dout, dgate: dgate, dup: dup,
                              count: count)
    }

    /// AttentionKernel.forward for one pair; `scratch` holds AttentionKernel.forwardScratch Floats.
    public static func attentionForward(_ pair: AttentionPair, _ scratch: UnsafeMutablePointer<Float>) {
        AttentionKernel.forward(BaselineArithmetic.self, pair, scratch: scratch)
    }

    /// AttentionBackwardKernel.backward for one group; `scratch` holds AttentionBackwardKernel.scratch Floats.
    public static func attentionBackward(_ group: AttentionGroup, _ scratch: UnsafeMutablePointer<Float>) {
        AttentionBackwardKernel.backward(BaselineArithmetic.self, group, scratch: scratch)
    }

    /// LayerNormKernel.forward over one block of rows.
    public static func layerNormForward(_ block: LayerNormKernel.Rows, _ epsilon: Float, _ out: UnsafeMutablePointer<Float>) {
        LayerNormKernel.forward(BaselineArithmetic.self, block, epsilon: epsilon, out: out)
    }

    /// LayerNormKernel.backward over one block of rows, into its partial dweight and dbias.
    public static func layerNormBackward(_ block: LayerNormKernel.Rows, _ dout: UnsafePointer<Float>,
                                         _ dinput: UnsafeMutablePointer<Float>, _ dweight: UnsafeMutablePointer<Float>,
                                         _ dbias: UnsafeMutablePointer<Float>?) {
        LayerNormKernel.backward(BaselineArithmetic.self, block, dout: dout, dinput: dinput, dweight: dweight, dbias: dbias)
    }
}
