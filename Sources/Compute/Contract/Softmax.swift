// The softmax contract: row softmax forward and backward, and the fused softmax + cross-entropy
// that gives the loss and the logits' gradient in one pass.
// Profile records: "N=ROWS cols=COLS" (softmax), "N=ROWS V=V" (cross-entropy). FLOPs per element:
// 4 (softmax, both directions), 5 (cross-entropy). Bytes: 4 per element read plus written.

/// The softmax family's requirements: row softmax forward and backward, and fused cross-entropy.
/// A backend implements these; callers use the checked entry points below.
public protocol BackendSoftmax: AnyObject {
    /// `softmaxForward(out:input:rows:cols:)` after its checks.
    func uncheckedSoftmaxForward(out: BufferView, input: BufferView, rows: Int, cols: Int) throws
    /// `softmaxBackward(dinput:dout:out:rows:cols:)` after its checks.
    func uncheckedSoftmaxBackward(dinput: BufferView, dout: BufferView, out: BufferView,
                                  rows: Int, cols: Int) throws
    /// `crossEntropyForward(losses:dlogits:logits:targets:rows:vocabulary:gradientScale:)` after its
    /// checks (targets in range where the host can read them).
    func uncheckedCrossEntropyForward(losses: BufferView, dlogits: BufferView?, logits: BufferView,
                                      targets: BufferView, rows: Int, vocabulary: Int,
                                      gradientScale: Float) throws
}

extension Backend {
    /// Row softmax of an N×cols input (max-subtracted). OVERWRITES out (may alias input).
    public func softmaxForward(out: BufferView, input: BufferView, rows: Int, cols: Int) throws {
        let check = try OpCheck(.softmaxForward, on: self)
        try check.positive(["rows": rows, "cols": cols])
        try check.floats(["out": out, "input": input])
        try check.count("input", input, rows * cols)
        try check.count("out", out, rows * cols)
        try check.aliasOrSeparate(("out", out), ("input", input))
        let size = Double(rows) * Double(cols)
        try check.run(check.record("N=\(rows) cols=\(cols)", flops: 4 * size, bytes: 8 * size)) {
            try uncheckedSoftmaxForward(out: out, input: input, rows: rows, cols: cols)
        }
    }

    /// dinput = out * (dout - sum(dout * out)) per row. OVERWRITES dinput.
    public func softmaxBackward(dinput: BufferView, dout: BufferView, out: BufferView,
                                rows: Int, cols: Int) throws {
        let check = try OpCheck(.softmaxBackward, on: self)
        try check.positive(["rows": rows, "cols": cols])
        try check.floats(["dinput": dinput, "dout": dout, "out": out])
        for (what, view) in [("dinput", dinput), ("dout", dout), ("out", out)] {
            try check.count(what, view, rows * cols)
        }
        try check.separate(("dinput", dinput), from: [("dout", dout), ("out", out)])
        let size = Double(rows) * Double(cols)
        try check.run(check.record("N=\(rows) cols=\(cols)", flops: 4 * size, bytes: 12 * size)) {
            try uncheckedSoftmaxBackward(dinput: dinput, dout: dout, out: out, rows: rows, cols: cols)
        }
    }

    /// Fused softmax + cross-entropy over N×V logits and N int32 targets. OVERWRITES
    /// losses[r] = logsumexp(logits[r]) - logits[r, target[r]] and, when `dlogits` is non-nil,
    /// dlogits = (softmax(logits) - onehot(target)) * gradientScale in the same pass (`dlogits` may
    /// alias `logits`). A target of -1 is ignored: loss 0 and zero gradient for that row. A target
    /// outside -1..<V throws `invalidArgument` where the backend holds targets in host memory
    /// (`hostInt32s`, the CPU backends), before anything is written; GPU backends give that row a
    /// NaN loss instead of a device round trip per step (the model validates targets on the host
    /// before they are uploaded).
    public func crossEntropyForward(losses: BufferView, dlogits: BufferView?, logits: BufferView,
                                    targets: BufferView, rows: Int, vocabulary: Int,
                                    gradientScale: Float) throws {
        let check = try OpCheck(.crossEntropyForward, on: self)
        let V = vocabulary
        try check.positive(["rows": rows, "vocabulary": V])
        try check.floats(["losses": losses, "dlogits": dlogits, "logits": logits])
        try check.int32s(["targets": targets])
        try check.count("logits", logits, rows * V)
        try check.count("losses", losses, rows)
        try check.count("targets", targets, rows)
        try check.count("dlogits", dlogits, rows * V)
        try check.separate(("losses", losses),
                           from: [dlogits.map { ("dlogits", $0) }, ("logits", logits), ("targets", targets)])
        if let dlogits {
            try check.aliasOrSeparate(("dlogits", dlogits), ("logits", logits))
            try check.separate(("dlogits", dlogits), from: [("targets", targets)])
        }
        try check.values("target", targets, in: 0..<Int32(clamping: V), allowing: -1,
                         describedAs: "0..<\(V) (or -1 to ignore)")
        let size = Double(rows) * Double(V)
        let bytes = 4 * (size * (dlogits == nil ? 1 : 2) + 2 * Double(rows))
        try check.run(check.record("N=\(rows) V=\(V)", flops: 5 * size, bytes: bytes)) {
            try uncheckedCrossEntropyForward(losses: losses, dlogits: dlogits, logits: logits, targets: targets,
                                             rows: rows, vocabulary: V, gradientScale: gradientScale)
        }
    }
}

extension ForwardingBackend {
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedSoftmaxForward(out: BufferView, input: BufferView, rows: Int, cols: Int) throws {
        try forwardee.uncheckedSoftmaxForward(out: out, input: input, rows: rows, cols: cols)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedSoftmaxBackward(dinput: BufferView, dout: BufferView, out: BufferView,
                                         rows: Int, cols: Int) throws {
        try forwardee.uncheckedSoftmaxBackward(dinput: dinput, dout: dout, out: out, rows: rows, cols: cols)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedCrossEntropyForward(losses: BufferView, dlogits: BufferView?, logits: BufferView,
                                             targets: BufferView, rows: Int, vocabulary: Int,
                                             gradientScale: Float) throws {
        try forwardee.uncheckedCrossEntropyForward(losses: losses, dlogits: dlogits, logits: logits, targets: targets,
                                                   rows: rows, vocabulary: vocabulary, gradientScale: gradientScale)
    }
}
