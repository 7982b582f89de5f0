// Activations on OpenCL: GELU (tanh), ReLU, fused SwiGLU and inverted dropout, forward and backward,
// through Kernels/activations.cl (one work-item per element; the kernels are memory-bound).

import Compute

extension OpenCLBackend {
    /// Work-items per work-group for the pointwise kernels (8 warps on a GPU; PoCL loops over them).
    static let pointwiseLocalSize = 256

    public func geluForward(out: BufferView, input: BufferView) throws {
        let op = "geluForward", count = input.count
        try Check.count(op, "out", out, count)
        try pointwise("activations_gelu_forward", op: op, count: count, [("out", out), ("input", input)],
                      flopsPerElement: 8, bytesPerElement: 8)
    }

    public func geluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        let op = "geluBackward", count = input.count
        try Check.count(op, "dout", dout, count)
        try Check.count(op, "dinput", dinput, count)
        try pointwise("activations_gelu_backward", op: op, count: count,
                      [("dinput", dinput), ("dout", dout), ("input", input)], flopsPerElement: 14, bytesPerElement: 12)
    }

    public func reluForward(out: BufferView, input: BufferView) throws {
        let op = "reluForward", count = input.count
        try Check.count(op, "out", out, count)
        try pointwise("activations_relu_forward", op: op, count: count, [("out", out), ("input", input)],
                      flopsPerElement: 1, bytesPerElement: 8)
    }

    public func reluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        let op = "reluBackward", count = input.count
        try Check.count(op, "dout", dout, count)
        try Check.count(op, "dinput", dinput, count)
        try pointwise("activations_relu_backward", op: op, count: count,
                      [("dinput", dinput), ("dout", dout), ("input", input)], flopsPerElement: 1, bytesPerElement: 12)
    }

    public func swigluForward(out: BufferView, input: BufferView, rows: Int, hidden: Int) throws {
        let op = "swigluForward"
        try Check.positive(op, ["rows": rows, "hidden": hidden])
        try Check.count(op, "input", input, rows * 2 * hidden)
        try Check.count(op, "out", out, rows * hidden)
        _ = try memory(op, "out", out)
        _ = try memory(op, "input", input)
        let elements = Double(rows * hidden)
        try launch("activations_swiglu_forward", program: "activations",
                   global: [roundUp(hidden, Self.pointwiseLocalSize), rows], local: [Self.pointwiseLocalSize, 1],
                   [.view(out), .view(input), .int(rows), .int(hidden)],
                   profile: ("N=\(rows) F=\(hidden)", 6 * elements, 12 * elements))
    }

    public func swigluBackward(dinput: BufferView, dout: BufferView, input: BufferView,
                               rows: Int, hidden: Int) throws {
        let op = "swigluBackward"
        try Check.positive(op, ["rows": rows, "hidden": hidden])
        try Check.count(op, "input", input, rows * 2 * hidden)
        try Check.count(op, "dinput", dinput, rows * 2 * hidden)
        try Check.count(op, "dout", dout, rows * hidden)
        for (what, view) in [("dinput", dinput), ("dout", dout), ("input", input)] { _ = try memory(op, what, view) }
        let elements = Double(rows * hidden)
        try launch("activations_swiglu_backward", program: "activations",
                   global: [roundUp(hidden, Self.pointwiseLocalSize), rows], local: [Self.pointwiseLocalSize, 1],
                   [.view(dinput), .view(dout), .view(input), .int(rows), .int(hidden)],
                   profile: ("N=\(rows) F=\(hidden)", 10 * elements, 20 * elements))
    }

    public func dropoutForward(out: BufferView, input: BufferView, probability: Float, seed: UInt64) throws {
        try dropout("dropoutForward", out: out, input: input, probability: probability, seed: seed)
    }

    public func dropoutBackward(dinput: BufferView, dout: BufferView, probability: Float, seed: UInt64) throws {
        try dropout("dropoutBackward", out: dinput, input: dout, probability: probability, seed: seed)
    }

    /// Forward and backward are the same map (see activations_dropout). The seed travels as its low
    /// and high 32-bit halves, exactly as CounterRNG.bits splits it.
    private func dropout(_ op: String, out: BufferView, input: BufferView, probability: Float,
                         seed: UInt64) throws {
        let count = input.count
        guard probability >= 0, probability < 1 else {
            throw BackendError.invalidArgument(op: op, reason: "probability must be in [0, 1), got \(probability)")
        }
        try Check.count(op, "output", out, count)
        try checkElementCount(op, count)
        _ = try memory(op, "output", out)
        _ = try memory(op, "input", input)
        try launch("activations_dropout", program: "activations",
                   global: [roundUp(count, Self.pointwiseLocalSize)], local: [Self.pointwiseLocalSize], [
                       .view(out), .view(input), .int(count), .float(probability), .float(1 / (1 - probability)),
                       .uint(UInt32(truncatingIfNeeded: seed)), .uint(UInt32(truncatingIfNeeded: seed >> 32)),
                   ],
                   profile: ("n=\(count) p=\(probability)", Double(count), 8 * Double(count)))
    }

    /// Launches a one-work-item-per-element kernel whose arguments are `views` then the count.
    private func pointwise(_ kernel: String, op: String, count: Int, _ views: [(String, BufferView)],
                           flopsPerElement: Double, bytesPerElement: Double) throws {
        try checkElementCount(op, count)
        for (what, view) in views { _ = try memory(op, what, view) }
        try launch(kernel, program: "activations",
                   global: [roundUp(count, Self.pointwiseLocalSize)], local: [Self.pointwiseLocalSize],
                   views.map { KernelArgument.view($0.1) } + [.int(count)],
                   profile: ("n=\(count)", flopsPerElement * Double(count), bytesPerElement * Double(count)))
    }

    /// Kernels index elements with `int`; a larger view is an argument error, not a silent wrap.
    private func checkElementCount(_ op: String, _ count: Int) throws {
        guard count <= Int(Int32.max) - Self.pointwiseLocalSize else {
            throw BackendError.invalidArgument(op: op, reason: "\(count) elements exceed the kernels' int indexing")
        }
    }
}
