// Row softmax (forward, backward) and fused softmax + cross-entropy on OpenCL, through
// Kernels/softmax.cl: one work-group per row, local-memory reductions, logits read twice at most.

import Compute

extension OpenCLBackend {
    /// Work-items per row: 256 on GPUs (enough loads in flight for a 50,257-column row), 64 on CPUs
    /// (PoCL runs the work-group as a loop; fewer items means fewer partials to merge). Always a
    /// power of two no larger than the device allows; it is the kernels' LOCAL_SIZE.
    var softmaxLocalSize: Int { deviceInfo.softmaxLocalSize }

    public func softmaxForward(out: BufferView, input: BufferView, rows: Int, cols: Int) throws {
        let op = "softmaxForward"
        try Check.positive(op, ["rows": rows, "cols": cols])
        try Check.count(op, "input", input, rows * cols)
        try Check.count(op, "out", out, rows * cols)
        _ = try memory(op, "out", out)
        _ = try memory(op, "input", input)
        let local = softmaxLocalSize
        try launch("softmax_forward", program: "softmax", defines: ["LOCAL_SIZE": "\(local)"],
                   global: [rows * local], local: [local], [.view(out), .view(input), .int(cols)],
                   profile: ("N=\(rows) cols=\(cols)", 4 * Double(rows * cols), 12 * Double(rows * cols)))
    }

    public func softmaxBackward(dinput: BufferView, dout: BufferView, out: BufferView,
                                rows: Int, cols: Int) throws {
        let op = "softmaxBackward"
        try Check.positive(op, ["rows": rows, "cols": cols])
        for (what, view) in [("dinput", dinput), ("dout", dout), ("out", out)] {
            try Check.count(op, what, view, rows * cols)
            _ = try memory(op, what, view)
        }
        let local = softmaxLocalSize
        try launch("softmax_backward", program: "softmax", defines: ["LOCAL_SIZE": "\(local)"],
                   global: [rows * local], local: [local], [.view(dinput), .view(dout), .view(out), .int(cols)],
                   profile: ("N=\(rows) cols=\(cols)", 4 * Double(rows * cols), 20 * Double(rows * cols)))
    }

    /// Targets are not range-checked on the host (that would need a device round trip every step):
    /// the kernel gives a row with a target outside -1..<V a NaN loss and NaN gradients.
    public func crossEntropyForward(losses: BufferView, dlogits: BufferView?, logits: BufferView,
                                    targets: BufferView, rows: Int, vocabulary: Int,
                                    gradientScale: Float) throws {
        let op = "crossEntropyForward"
        let V = vocabulary
        try Check.positive(op, ["rows": rows, "vocabulary": V])
        try Check.count(op, "logits", logits, rows * V)
        try Check.count(op, "losses", losses, rows)
        try Check.count(op, "targets", targets, rows)
        if let dlogits { try Check.count(op, "dlogits", dlogits, rows * V) }
        _ = try memory(op, "logits", logits)
        _ = try memory(op, "losses", losses)
        _ = try memory(op, "targets", targets, .int32)
        if let dlogits { _ = try memory(op, "dlogits", dlogits) }
        let local = softmaxLocalSize
        // Without dlogits the kernel never touches its dlogits argument; `logits` fills the slot.
        let bytes: Double = (dlogits == nil ? 4 : 12) * Double(rows * V)
        try launch("softmax_cross_entropy", program: "softmax", defines: ["LOCAL_SIZE": "\(local)"],
                   global: [rows * local], local: [local], [
                       .view(losses), .view(dlogits ?? logits), .view(logits), .view(targets), .int(V),
                       .float(gradientScale), .int(dlogits == nil ? 0 : 1),
                   ],
                   profile: ("N=\(rows) V=\(V)", 5 * Double(rows * V), bytes))
    }
}
