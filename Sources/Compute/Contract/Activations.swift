// The activation contract: GELU (tanh approximation), ReLU, fused SwiGLU and counter-RNG dropout,
// forward and backward. Where an op says "may alias", the output may be exactly the named input's
// range (each element is read before it is written); any other overlap is refused.
// Profile records: "n=COUNT" ("n=COUNT p=P" for dropout, "N=ROWS F=HIDDEN" for SwiGLU). FLOPs per
// element: GELU 8 forward, 14 backward; ReLU 1 and 1; dropout 1; SwiGLU 6 and 10 per output
// column. Bytes: 4 per element read plus written.

/// The activation family's requirements: GELU, ReLU, fused SwiGLU and dropout, forward and backward.
/// A backend implements these; callers use the checked entry points below.
public protocol BackendActivations: AnyObject {
    /// `geluForward(out:input:)` after its checks.
    func uncheckedGeluForward(out: BufferView, input: BufferView) throws
    /// `geluBackward(dinput:dout:input:)` after its checks.
    func uncheckedGeluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws
    /// `reluForward(out:input:)` after its checks.
    func uncheckedReluForward(out: BufferView, input: BufferView) throws
    /// `reluBackward(dinput:dout:input:)` after its checks.
    func uncheckedReluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws
    /// `swigluForward(out:input:rows:hidden:)` after its checks.
    func uncheckedSwigluForward(out: BufferView, input: BufferView, rows: Int, hidden: Int) throws
    /// `swigluBackward(dinput:dout:input:rows:hidden:)` after its checks.
    func uncheckedSwigluBackward(dinput: BufferView, dout: BufferView, input: BufferView,
                                 rows: Int, hidden: Int) throws
    /// The dropout map out[i] = keep(firstIndex + i) ? input[i] / (1 - p) : 0 that `dropoutForward`
    /// and `dropoutBackward` both are, after their checks (0 <= p < 1, equal counts, firstIndex >= 0).
    /// p == 0 copies.
    func uncheckedDropout(out: BufferView, input: BufferView, probability: Float, seed: UInt64,
                          firstIndex: Int) throws
}

extension Backend {
    /// GELU, tanh approximation (GPT-2's "gelu_new"):
    ///   0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). OVERWRITES out (may alias input).
    public func geluForward(out: BufferView, input: BufferView) throws {
        try pointwise(.geluForward, out: out, input: input, flops: 8) {
            try uncheckedGeluForward(out: out, input: input)
        }
    }

    /// dinput = dout * gelu'(input). OVERWRITES dinput (may alias dout).
    public func geluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        try pointwiseBackward(.geluBackward, dinput: dinput, dout: dout, input: input, flops: 14) {
            try uncheckedGeluBackward(dinput: dinput, dout: dout, input: input)
        }
    }

    /// out = max(x, 0) (NaN gives 0). OVERWRITES (may alias input).
    public func reluForward(out: BufferView, input: BufferView) throws {
        try pointwise(.reluForward, out: out, input: input, flops: 1) {
            try uncheckedReluForward(out: out, input: input)
        }
    }

    /// dinput = dout where input > 0, else 0. OVERWRITES (may alias dout).
    public func reluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        try pointwiseBackward(.reluBackward, dinput: dinput, dout: dout, input: input, flops: 1) {
            try uncheckedReluBackward(dinput: dinput, dout: dout, input: input)
        }
    }

    /// Fused SwiGLU. input is N×2F: columns 0..<F are the gate g, F..<2F the up projection u.
    ///   out[r, j] = silu(g[r, j]) * u[r, j],  silu(g) = g / (1 + exp(-g)). out is N×F. OVERWRITES.
    public func swigluForward(out: BufferView, input: BufferView, rows: Int, hidden: Int) throws {
        let check = try OpCheck(.swigluForward, on: self)
        try check.positive(["rows": rows, "hidden": hidden])
        try check.floats(["out": out, "input": input])
        try check.count("input", input, rows * 2 * hidden)
        try check.count("out", out, rows * hidden)
        try check.separate(("out", out), from: [("input", input)])
        let size = Double(rows) * Double(hidden)
        try check.run(check.record("N=\(rows) F=\(hidden)", flops: 6 * size, bytes: 12 * size)) {
            try uncheckedSwigluForward(out: out, input: input, rows: rows, hidden: hidden)
        }
    }

    /// dinput (N×2F): dg = dout * u * silu'(g), du = dout * silu(g). OVERWRITES.
    public func swigluBackward(dinput: BufferView, dout: BufferView, input: BufferView,
                               rows: Int, hidden: Int) throws {
        let check = try OpCheck(.swigluBackward, on: self)
        try check.positive(["rows": rows, "hidden": hidden])
        try check.floats(["dinput": dinput, "dout": dout, "input": input])
        try check.count("input", input, rows * 2 * hidden)
        try check.count("dinput", dinput, rows * 2 * hidden)
        try check.count("dout", dout, rows * hidden)
        try check.separate(("dinput", dinput), from: [("dout", dout), ("input", input)])
        let size = Double(rows) * Double(hidden)
        try check.run(check.record("N=\(rows) F=\(hidden)", flops: 10 * size, bytes: 20 * size)) {
            try uncheckedSwigluBackward(dinput: dinput, dout: dout, input: input, rows: rows, hidden: hidden)
        }
    }

    /// Inverted dropout: out[i] = keep(firstIndex + i) ? input[i] / (1 - p) : 0, where
    /// keep(j) = CounterRNG.uniform(seed, j mod 2^32) >= p. The same (seed, j) gives the same mask on
    /// every backend. `firstIndex` is the mask index of the view's first element: a part of a larger
    /// tensor (a data-parallel rank's rows of the global batch) draws exactly the whole tensor's mask
    /// for its elements. OVERWRITES (may alias input). p == 0 copies; p must be in [0, 1).
    public func dropoutForward(out: BufferView, input: BufferView, probability: Float, seed: UInt64,
                               firstIndex: Int = 0) throws {
        try dropout(.dropoutForward, out: ("out", out), input: ("input", input), probability: probability, seed: seed,
                    firstIndex: firstIndex)
    }

    /// dinput = dout masked and scaled exactly as the forward with the same seed and firstIndex.
    /// OVERWRITES (may alias dout).
    public func dropoutBackward(dinput: BufferView, dout: BufferView, probability: Float, seed: UInt64,
                                firstIndex: Int = 0) throws {
        try dropout(.dropoutBackward, out: ("dinput", dinput), input: ("dout", dout), probability: probability,
                    seed: seed, firstIndex: firstIndex)
    }

    /// Forward and backward are the same map: the mask depends only on seed and index.
    private func dropout(_ op: Op, out: NamedView, input: NamedView, probability: Float, seed: UInt64,
                         firstIndex: Int) throws {
        let check = try OpCheck(op, on: self)
        try check.require(probability >= 0 && probability < 1, "probability must be in [0, 1), got \(probability)")
        try check.require(firstIndex >= 0, "firstIndex must not be negative, got \(firstIndex)")
        try check.pointwise(out: out, input: input)
        let n = Double(input.view.count)
        try check.run(check.record("n=\(input.view.count) p=\(probability)", flops: n, bytes: 8 * n)) {
            try uncheckedDropout(out: out.view, input: input.view, probability: probability, seed: seed,
                                 firstIndex: firstIndex)
        }
    }

    /// A one-to-one forward map of `flops` per element: reads and writes 4 bytes per element each.
    private func pointwise(_ op: Op, out: BufferView, input: BufferView, flops: Double,
                           _ body: () throws -> Void) throws {
        let check = try OpCheck(op, on: self)
        try check.pointwise(out: ("out", out), input: ("input", input))
        let n = Double(input.count)
        try check.run(check.record("n=\(input.count)", flops: flops * n, bytes: 8 * n), body)
    }

    /// Its backward: dinput = dout * f'(input), reading two views and writing one.
    private func pointwiseBackward(_ op: Op, dinput: BufferView, dout: BufferView, input: BufferView, flops: Double,
                                   _ body: () throws -> Void) throws {
        let check = try OpCheck(op, on: self)
        try check.floats(["dinput": dinput, "dout": dout, "input": input])
        try check.count("dout", dout, input.count)
        try check.count("dinput", dinput, input.count)
        try check.aliasOrSeparate(("dinput", dinput), ("dout", dout))
        try check.separate(("dinput", dinput), from: [("input", input)])
        let n = Double(input.count)
        try check.run(check.record("n=\(input.count)", flops: flops * n, bytes: 12 * n), body)
    }
}

extension OpCheck {
    /// A one-to-one map: float32 views of equal count, the output the input's range or apart from it.
    fileprivate func pointwise(out: NamedView, input: NamedView) throws {
        try floats([out.name: out.view, input.name: input.view])
        try count(out.name, out.view, input.view.count)
        try aliasOrSeparate(out, input)
    }
}

extension ForwardingBackend {
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedGeluForward(out: BufferView, input: BufferView) throws {
        try forwardee.uncheckedGeluForward(out: out, input: input)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedGeluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        try forwardee.uncheckedGeluBackward(dinput: dinput, dout: dout, input: input)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedReluForward(out: BufferView, input: BufferView) throws {
        try forwardee.uncheckedReluForward(out: out, input: input)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedReluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        try forwardee.uncheckedReluBackward(dinput: dinput, dout: dout, input: input)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedSwigluForward(out: BufferView, input: BufferView, rows: Int, hidden: Int) throws {
        try forwardee.uncheckedSwigluForward(out: out, input: input, rows: rows, hidden: hidden)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedSwigluBackward(dinput: BufferView, dout: BufferView, input: BufferView,
                                        rows: Int, hidden: Int) throws {
        try forwardee.uncheckedSwigluBackward(dinput: dinput, dout: dout, input: input, rows: rows, hidden: hidden)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedDropout(out: BufferView, input: BufferView, probability: Float, seed: UInt64,
                                 firstIndex: Int) throws {
        try forwardee.uncheckedDropout(out: out, input: input, probability: probability, seed: seed,
                                       firstIndex: firstIndex)
    }
}
