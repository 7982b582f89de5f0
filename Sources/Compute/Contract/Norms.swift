// The norm contract: LayerNorm and RMSNorm over the last dimension of an N×C input, forward and
// backward. Every output is its own range: no output overlaps another view of the call.
// Profile record: "N=ROWS C=COLS"; FLOPs per element 8 (LayerNorm forward), 12 (its backward),
// 4 (RMSNorm forward), 8 (its backward); bytes 4 per element read plus written, each view once
// (an accumulated output counts twice: read and written).

/// The norm family's requirements: LayerNorm and RMSNorm over rows, forward and backward. A backend
/// implements these; callers use the checked entry points below.
public protocol BackendNorms: AnyObject {
    /// `layerNormForward(out:mean:rstd:input:weight:bias:rows:cols:epsilon:)` after its checks.
    func uncheckedLayerNormForward(out: BufferView, mean: BufferView, rstd: BufferView,
                                   input: BufferView, weight: BufferView, bias: BufferView?,
                                   rows: Int, cols: Int, epsilon: Float) throws
    /// `layerNormBackward(dinput:dweight:dbias:dout:input:weight:mean:rstd:rows:cols:)` after its checks.
    func uncheckedLayerNormBackward(dinput: BufferView, dweight: BufferView, dbias: BufferView?,
                                    dout: BufferView, input: BufferView, weight: BufferView,
                                    mean: BufferView, rstd: BufferView, rows: Int, cols: Int) throws
    /// `rmsNormForward(out:rstd:input:weight:rows:cols:epsilon:)` after its checks.
    func uncheckedRMSNormForward(out: BufferView, rstd: BufferView, input: BufferView, weight: BufferView,
                                 rows: Int, cols: Int, epsilon: Float) throws
    /// `rmsNormBackward(dinput:dweight:dout:input:weight:rstd:rows:cols:)` after its checks.
    func uncheckedRMSNormBackward(dinput: BufferView, dweight: BufferView, dout: BufferView,
                                  input: BufferView, weight: BufferView, rstd: BufferView,
                                  rows: Int, cols: Int) throws
}

extension Backend {
    /// LayerNorm over the last dim of an N×C input. OVERWRITES out (N×C), mean (N), rstd (N):
    ///   out = (x - mean) * rstd * weight + bias,  rstd = 1 / sqrt(var + epsilon) (biased var).
    /// `bias` may be nil (no-bias models).
    public func layerNormForward(out: BufferView, mean: BufferView, rstd: BufferView,
                                 input: BufferView, weight: BufferView, bias: BufferView?,
                                 rows: Int, cols: Int, epsilon: Float) throws {
        let check = try OpCheck(.layerNormForward, on: self)
        try check.norm(rows: rows, cols: cols, matrices: ["out": out, "input": input],
                       vectors: ["weight": weight, "bias": bias], statistics: ["mean": mean, "rstd": rstd],
                       written: [("out", out), ("mean", mean), ("rstd", rstd)])
        let size = Double(rows) * Double(cols)
        let vectors = Double(cols) * (bias == nil ? 1 : 2)
        try check.run(check.record("N=\(rows) C=\(cols)", flops: 8 * size,
                                   bytes: 4 * (2 * size + vectors + 2 * Double(rows)))) {
            try uncheckedLayerNormForward(out: out, mean: mean, rstd: rstd, input: input, weight: weight, bias: bias,
                                          rows: rows, cols: cols, epsilon: epsilon)
        }
    }

    /// ACCUMULATES dinput (N×C), dweight (C), dbias (C, when non-nil), from dout (N×C) and what the
    /// forward saved (mean, rstd). With n = (x - mean) * rstd and g = dout * weight:
    ///   dinput += rstd * (g - mean(g) - n * mean(g * n)),  dweight += sum_r dout * n,  dbias += sum_r dout.
    public func layerNormBackward(dinput: BufferView, dweight: BufferView, dbias: BufferView?,
                                  dout: BufferView, input: BufferView, weight: BufferView,
                                  mean: BufferView, rstd: BufferView, rows: Int, cols: Int) throws {
        let check = try OpCheck(.layerNormBackward, on: self)
        try check.norm(rows: rows, cols: cols, matrices: ["dinput": dinput, "dout": dout, "input": input],
                       vectors: ["dweight": dweight, "dbias": dbias, "weight": weight],
                       statistics: ["mean": mean, "rstd": rstd],
                       written: [("dinput", dinput), ("dweight", dweight), dbias.map { ("dbias", $0) }])
        let size = Double(rows) * Double(cols)
        let vectors = Double(cols) * (dbias == nil ? 3 : 5)
        try check.run(check.record("N=\(rows) C=\(cols)", flops: 12 * size,
                                   bytes: 4 * (4 * size + vectors + 2 * Double(rows)))) {
            try uncheckedLayerNormBackward(dinput: dinput, dweight: dweight, dbias: dbias, dout: dout, input: input,
                                           weight: weight, mean: mean, rstd: rstd, rows: rows, cols: cols)
        }
    }

    /// RMSNorm (Llama): out = x * rstd * weight, rstd = 1 / sqrt(mean(x^2) + epsilon).
    /// OVERWRITES out (N×C) and rstd (N).
    public func rmsNormForward(out: BufferView, rstd: BufferView, input: BufferView, weight: BufferView,
                               rows: Int, cols: Int, epsilon: Float) throws {
        let check = try OpCheck(.rmsNormForward, on: self)
        try check.norm(rows: rows, cols: cols, matrices: ["out": out, "input": input], vectors: ["weight": weight],
                       statistics: ["rstd": rstd], written: [("out", out), ("rstd", rstd)])
        let size = Double(rows) * Double(cols)
        try check.run(check.record("N=\(rows) C=\(cols)", flops: 4 * size,
                                   bytes: 4 * (2 * size + Double(cols) + Double(rows)))) {
            try uncheckedRMSNormForward(out: out, rstd: rstd, input: input, weight: weight, rows: rows, cols: cols,
                                        epsilon: epsilon)
        }
    }

    /// ACCUMULATES dinput (N×C) and dweight (C). With g = dout * weight:
    ///   dinput += rstd * g - x * rstd^3 * mean(g * x),  dweight += sum_r dout * x * rstd.
    public func rmsNormBackward(dinput: BufferView, dweight: BufferView, dout: BufferView,
                                input: BufferView, weight: BufferView, rstd: BufferView,
                                rows: Int, cols: Int) throws {
        let check = try OpCheck(.rmsNormBackward, on: self)
        try check.norm(rows: rows, cols: cols, matrices: ["dinput": dinput, "dout": dout, "input": input],
                       vectors: ["dweight": dweight, "weight": weight], statistics: ["rstd": rstd],
                       written: [("dinput", dinput), ("dweight", dweight)])
        let size = Double(rows) * Double(cols)
        try check.run(check.record("N=\(rows) C=\(cols)", flops: 8 * size,
                                   bytes: 4 * (4 * size + 3 * Double(cols) + Double(rows)))) {
            try uncheckedRMSNormBackward(dinput: dinput, dweight: dweight, dout: dout, input: input, weight: weight,
                                         rstd: rstd, rows: rows, cols: cols)
        }
    }
}

extension OpCheck {
    /// The checks of all four norm ops: positive sizes, float32 views of this backend, N×C
    /// matrices, C vectors, N row statistics, and written views apart from every other view.
    fileprivate func norm(rows: Int, cols: Int, matrices: KeyValuePairs<String, BufferView>,
                          vectors: KeyValuePairs<String, BufferView?>, statistics: KeyValuePairs<String, BufferView>,
                          written: [NamedView?]) throws {
        try positive(["rows": rows, "cols": cols])
        var all: [NamedView] = []
        for (what, view) in matrices {
            try owned(what, view, .float32)
            try count(what, view, rows * cols)
            all.append((what, view))
        }
        for case let (what, view?) in vectors {
            try owned(what, view, .float32)
            try count(what, view, cols)
            all.append((what, view))
        }
        for (what, view) in statistics {
            try owned(what, view, .float32)
            try count(what, view, rows)
            all.append((what, view))
        }
        for case let output? in written {
            try separate(output, from: all.filter { $0.name != output.name })
        }
    }
}

extension ForwardingBackend {
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedLayerNormForward(out: BufferView, mean: BufferView, rstd: BufferView,
                                          input: BufferView, weight: BufferView, bias: BufferView?,
                                          rows: Int, cols: Int, epsilon: Float) throws {
        try forwardee.uncheckedLayerNormForward(out: out, mean: mean, rstd: rstd, input: input, weight: weight,
                                                bias: bias, rows: rows, cols: cols, epsilon: epsilon)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedLayerNormBackward(dinput: BufferView, dweight: BufferView, dbias: BufferView?,
                                           dout: BufferView, input: BufferView, weight: BufferView,
                                           mean: BufferView, rstd: BufferView, rows: Int, cols: Int) throws {
        try forwardee.uncheckedLayerNormBackward(dinput: dinput, dweight: dweight, dbias: dbias, dout: dout,
                                                 input: input, weight: weight, mean: mean, rstd: rstd,
                                                 rows: rows, cols: cols)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedRMSNormForward(out: BufferView, rstd: BufferView, input: BufferView, weight: BufferView,
                                        rows: Int, cols: Int, epsilon: Float) throws {
        try forwardee.uncheckedRMSNormForward(out: out, rstd: rstd, input: input, weight: weight, rows: rows,
                                              cols: cols, epsilon: epsilon)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedRMSNormBackward(dinput: BufferView, dweight: BufferView, dout: BufferView,
                                         input: BufferView, weight: BufferView, rstd: BufferView,
                                         rows: Int, cols: Int) throws {
        try forwardee.uncheckedRMSNormBackward(dinput: dinput, dweight: dweight, dout: dout, input: input,
                                               weight: weight, rstd: rstd, rows: rows, cols: cols)
    }
}
