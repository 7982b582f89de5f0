// Activations on OpenCL: GELU (tanh), ReLU, fused SwiGLU and inverted dropout, forward and backward,
// through Kernels/activations.cl (one work-item per element; the kernels are memory-bound).

import Compute

extension OpenCLBackend {
    /// Work-items per work-group for the pointwise kernels (8 warps on a GPU; PoCL loops over them).
    static let pointwiseLocalSize = 256

    /// Enqueues `activations_gelu_forward`, one work-item per element; returns once queued.
    public func uncheckedGeluForward(out: BufferView, input: BufferView) throws {
        try pointwise("activations_gelu_forward", [out, input])
    }

    /// Enqueues `activations_gelu_backward`, one work-item per element; returns once queued.
    public func uncheckedGeluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        try pointwise("activations_gelu_backward", [dinput, dout, input])
    }

    /// Enqueues `activations_relu_forward`, one work-item per element; returns once queued.
    public func uncheckedReluForward(out: BufferView, input: BufferView) throws {
        try pointwise("activations_relu_forward", [out, input])
    }

    /// Enqueues `activations_relu_backward`, one work-item per element; returns once queued.
    public func uncheckedReluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        try pointwise("activations_relu_backward", [dinput, dout, input])
    }

    /// Enqueues `activations_swiglu_forward` over the N×F outputs; returns once queued.
    public func uncheckedSwigluForward(out: BufferView, input: BufferView, rows: Int, hidden: Int) throws {
        try launch("activations_swiglu_forward", program: .activations,
                   global: [roundUp(hidden, Self.pointwiseLocalSize), rows], local: [Self.pointwiseLocalSize, 1],
                   [.view(out), .view(input), .int(rows), .int(hidden)])
    }

    /// Enqueues `activations_swiglu_backward` over the N×F gate and up pairs; returns once queued.
    public func uncheckedSwigluBackward(dinput: BufferView, dout: BufferView, input: BufferView,
                                        rows: Int, hidden: Int) throws {
        try launch("activations_swiglu_backward", program: .activations,
                   global: [roundUp(hidden, Self.pointwiseLocalSize), rows], local: [Self.pointwiseLocalSize, 1],
                   [.view(dinput), .view(dout), .view(input), .int(rows), .int(hidden)])
    }

    /// Forward and backward are the same map (see activations_dropout). The seed travels as its low
    /// and high 32-bit halves, exactly as CounterRNG.bits splits it; firstIndex as a uint (mask
    /// indices wrap mod 2^32).
    public func uncheckedDropout(out: BufferView, input: BufferView, probability: Float, seed: UInt64,
                                 firstIndex: Int) throws {
        let kernel = "activations_dropout", count = input.count
        try checkElementCount(kernel, count)
        try launch(kernel, program: .activations,
                   global: [roundUp(count, Self.pointwiseLocalSize)], local: [Self.pointwiseLocalSize], [
                       .view(out), .view(input), .int(count), .float(probability), .float(1 / (1 - probability)),
                       .uint(UInt32(truncatingIfNeeded: seed)), .uint(UInt32(truncatingIfNeeded: seed >> 32)),
                       .uint(UInt32(truncatingIfNeeded: firstIndex)),
                   ])
    }

    /// Launches a one-work-item-per-element kernel whose arguments are `views` then the count of
    /// the last view (the input).
    private func pointwise(_ kernel: String, _ views: [BufferView]) throws {
        let count = views.last?.count ?? 0
        try checkElementCount(kernel, count)
        try launch(kernel, program: .activations,
                   global: [roundUp(count, Self.pointwiseLocalSize)], local: [Self.pointwiseLocalSize],
                   views.map { KernelArgument.view($0) } + [.int(count)])
    }

    /// Kernels index elements with `int`, and the rounded-up global size must fit one too: a larger
    /// view is an argument error, not a silent wrap.
    private func checkElementCount(_ kernel: String, _ count: Int) throws {
        guard count <= Int(Int32.max) - Self.pointwiseLocalSize else {
            throw BackendError.invalidArgument(op: kernel, reason: "\(count) elements exceed the kernels' int indexing")
        }
    }
}
