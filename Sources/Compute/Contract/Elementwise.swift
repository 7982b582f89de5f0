// The elementwise contract: add, addScaled, scale, and the bias broadcast with its gradient.
// Profile records: "n=COUNT" (add, addScaled, scale) or "rows=N cols=COLS" (bias ops); one FLOP
// per element (two for addScaled: multiply and add); bytes 4 per element read plus written.

/// The elementwise family's requirements: add, addScaled, scale, bias broadcast and its gradient.
/// A backend implements these; callers use the checked entry points below.
public protocol BackendElementwise: AnyObject {
    /// `add(out:a:b:)` after its checks.
    func uncheckedAdd(out: BufferView, a: BufferView, b: BufferView) throws
    /// `addScaled(into:_:alpha:)` after its checks.
    func uncheckedAddScaled(into y: BufferView, _ x: BufferView, alpha: Float) throws
    /// `scale(_:by:)` after its checks.
    func uncheckedScale(_ x: BufferView, by alpha: Float) throws
    /// `addBias(out:bias:rows:cols:)` after its checks.
    func uncheckedAddBias(out: BufferView, bias: BufferView, rows: Int, cols: Int) throws
    /// `biasBackward(dbias:dout:rows:cols:)` after its checks.
    func uncheckedBiasBackward(dbias: BufferView, dout: BufferView, rows: Int, cols: Int) throws
}

extension Backend {
    /// out = a + b, elementwise (equal counts; `out` may alias `a` or `b`). OVERWRITES.
    public func add(out: BufferView, a: BufferView, b: BufferView) throws {
        let check = try OpCheck(.add, on: self)
        try check.floats(["out": out, "a": a, "b": b])
        try check.count("a", a, out.count)
        try check.count("b", b, out.count)
        try check.aliasOrSeparate(("out", out), ("a", a))
        try check.aliasOrSeparate(("out", out), ("b", b))
        let n = Double(out.count)
        try check.run(check.record("n=\(out.count)", flops: n, bytes: 12 * n)) {
            try uncheckedAdd(out: out, a: a, b: b)
        }
    }

    /// y += alpha * x (equal counts; `x` may alias `y`). ACCUMULATES.
    public func addScaled(into y: BufferView, _ x: BufferView, alpha: Float) throws {
        let check = try OpCheck(.addScaled, on: self)
        try check.floats(["y": y, "x": x])
        try check.count("x", x, y.count)
        try check.aliasOrSeparate(("y", y), ("x", x))
        let n = Double(y.count)
        try check.run(check.record("n=\(y.count)", flops: 2 * n, bytes: 12 * n)) {
            try uncheckedAddScaled(into: y, x, alpha: alpha)
        }
    }

    /// x *= alpha, in place.
    public func scale(_ x: BufferView, by alpha: Float) throws {
        let check = try OpCheck(.scale, on: self)
        try check.floats(["x": x])
        let n = Double(x.count)
        try check.run(check.record("n=\(x.count)", flops: n, bytes: 8 * n)) { try uncheckedScale(x, by: alpha) }
    }

    /// out[r, c] += bias[c] for an N×cols `out`. In place.
    public func addBias(out: BufferView, bias: BufferView, rows: Int, cols: Int) throws {
        let check = try OpCheck(.addBias, on: self)
        try check.positive(["rows": rows, "cols": cols])
        try check.floats(["out": out, "bias": bias])
        try check.count("out", out, rows * cols)
        try check.count("bias", bias, cols)
        try check.separate(("out", out), from: [("bias", bias)])
        let size = Double(rows) * Double(cols)
        try check.run(check.record("rows=\(rows) cols=\(cols)", flops: size, bytes: 4 * (2 * size + Double(cols)))) {
            try uncheckedAddBias(out: out, bias: bias, rows: rows, cols: cols)
        }
    }

    /// dbias[c] += sum over r of dout[r, c] (N×cols). ACCUMULATES. Also the backward of a
    /// broadcast add (e.g. learned positions: rows = B, cols = T*C).
    public func biasBackward(dbias: BufferView, dout: BufferView, rows: Int, cols: Int) throws {
        let check = try OpCheck(.biasBackward, on: self)
        try check.positive(["rows": rows, "cols": cols])
        try check.floats(["dbias": dbias, "dout": dout])
        try check.count("dout", dout, rows * cols)
        try check.count("dbias", dbias, cols)
        try check.separate(("dbias", dbias), from: [("dout", dout)])
        let size = Double(rows) * Double(cols)
        try check.run(check.record("rows=\(rows) cols=\(cols)", flops: size, bytes: 4 * (size + 2 * Double(cols)))) {
            try uncheckedBiasBackward(dbias: dbias, dout: dout, rows: rows, cols: cols)
        }
    }
}

extension ForwardingBackend {
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedAdd(out: BufferView, a: BufferView, b: BufferView) throws {
        try forwardee.uncheckedAdd(out: out, a: a, b: b)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedAddScaled(into y: BufferView, _ x: BufferView, alpha: Float) throws {
        try forwardee.uncheckedAddScaled(into: y, x, alpha: alpha)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedScale(_ x: BufferView, by alpha: Float) throws { try forwardee.uncheckedScale(x, by: alpha) }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedAddBias(out: BufferView, bias: BufferView, rows: Int, cols: Int) throws {
        try forwardee.uncheckedAddBias(out: out, bias: bias, rows: rows, cols: cols)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedBiasBackward(dbias: BufferView, dout: BufferView, rows: Int, cols: Int) throws {
        try forwardee.uncheckedBiasBackward(dbias: dbias, dout: dout, rows: rows, cols: cols)
    }
}
