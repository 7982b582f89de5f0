// Row softmax (forward, backward) and fused softmax + cross-entropy on OpenCL, through
// Kernels/softmax.cl: one work-group per row, local-memory reductions, logits read twice at most.

import Compute

extension OpenCLBackend {
    /// Work-items per row: 256 on GPUs (enough loads in flight for a 50,257-column row), 64 on CPUs
    /// (PoCL runs the work-group as a loop; fewer items means fewer partials to merge). Always a
    /// power of two no larger than the device allows; it is the kernels' LOCAL_SIZE.
    var softmaxLocalSize: Int { deviceInfo.softmaxLocalSize }

    /// Enqueues `softmax_forward`, one work-group per row; returns once queued.
    public func uncheckedSoftmaxForward(out: BufferView, input: BufferView, rows: Int, cols: Int) throws {
        let local = softmaxLocalSize
        try launch("softmax_forward", program: .softmax, defines: ["LOCAL_SIZE": "\(local)"],
                   global: [rows * local], local: [local], [.view(out), .view(input), .int(cols)])
    }

    /// Enqueues `softmax_backward`, one work-group per row; returns once queued.
    public func uncheckedSoftmaxBackward(dinput: BufferView, dout: BufferView, out: BufferView,
                                         rows: Int, cols: Int) throws {
        let local = softmaxLocalSize
        try launch("softmax_backward", program: .softmax, defines: ["LOCAL_SIZE": "\(local)"],
                   global: [rows * local], local: [local], [.view(dinput), .view(dout), .view(out), .int(cols)])
    }

    /// Targets are not range-checked on the host (that would need a device round trip every step):
    /// the kernel gives a row with a target outside -1..<V a NaN loss and NaN gradients.
    public func uncheckedCrossEntropyForward(losses: BufferView, dlogits: BufferView?, logits: BufferView,
                                             targets: BufferView, rows: Int, vocabulary: Int,
                                             gradientScale: Float) throws {
        let V = vocabulary
        let local = softmaxLocalSize
        // Without dlogits the kernel never touches its dlogits argument; `logits` fills the slot.
        try launch("softmax_cross_entropy", program: .softmax, defines: ["LOCAL_SIZE": "\(local)"],
                   global: [rows * local], local: [local], [
                       .view(losses), .view(dlogits ?? logits), .view(logits), .view(targets), .int(V),
                       .float(gradientScale), .int(dlogits == nil ? 0 : 1),
                   ])
    }
}
