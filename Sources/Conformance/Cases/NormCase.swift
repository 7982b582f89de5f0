// Conformance cases for LayerNorm (with and without bias) and RMSNorm, forward and backward.

import Compute

/// One norm op over `rows`×`cols`. Inputs carry a mean offset of 3 so a one-pass float32 variance
/// (E[x²] - E[x]², which cancels badly) is caught. The backward cases feed mean/rstd from the same
/// backend's forward, as training does; the forward cases check those on their own.
///
/// Tolerance: a backend reduces `cols` values per row in float32 where the reference uses Double;
/// forward relative 1e-5, NMSE 1e-11. The backward subtracts row means of products (cancellation)
/// and sums dweight over all rows: relative 5e-5, NMSE 1e-10.
public struct NormCase: OpCase {
    /// LayerNorm or RMSNorm.
    public enum Kind: String, Sendable { case layer, rms }
    /// LayerNorm or RMSNorm.
    public let kind: Kind
    /// Runs the backward op (fed by a forward on the same inputs) instead of the forward.
    public let backward: Bool
    /// LayerNorm with a bias (always false for RMSNorm).
    public let bias: Bool
    /// The input is `rows`×`cols`, row-major.
    public let rows: Int, cols: Int
    /// Plants NaN and ±Inf in the inputs; they must come out at the positions the math puts them.
    public let nonFinite: Bool

    /// One norm case; `bias` is ignored for RMSNorm.
    public init(_ kind: Kind, backward: Bool, bias: Bool = true, rows: Int, cols: Int, nonFinite: Bool = false) {
        self.kind = kind
        self.backward = backward
        self.bias = kind == .layer && bias
        self.rows = rows
        self.cols = cols
        self.nonFinite = nonFinite
    }

    /// The `Op` raw value of the call under test (what `--op` selects by).
    public var op: String {
        switch (kind, backward) {
        case (.layer, false): return Op.layerNormForward.rawValue
        case (.layer, true): return Op.layerNormBackward.rawValue
        case (.rms, false): return Op.rmsNormForward.rawValue
        case (.rms, true): return Op.rmsNormBackward.rawValue
        }
    }
    /// The backward also needs the forward that saves its mean and rstd.
    public var requiredOps: [Op] {
        kind == .layer ? [.layerNormForward] + (backward ? [.layerNormBackward] : [])
            : [.rmsNormForward] + (backward ? [.rmsNormBackward] : [])
    }
    /// Shape and options as `key=value` pairs, as the result line prints them.
    public var parameters: String {
        "N=\(rows),C=\(cols)" + (kind == .layer ? ",bias=\(bias ? 1 : 0)" : "") + (nonFinite ? ",nonfinite" : "")
    }
    /// Derived from `description`: the same case draws the same inputs on every run.
    public var seed: UInt64 { Self.seed(for: description) }
    /// True for the `nonFinite` variant only.
    public var injectsNonFinite: Bool { nonFinite }
    /// The bound derived in the type's doc comment.
    public var tolerance: Tolerance {
        backward ? Tolerance(nmse: 1e-10, relative: 5e-5) : Tolerance(nmse: 1e-11, relative: 1e-5)
    }

    /// Draws the seeded inputs and the guarded outputs through `harness`, then makes the one call
    /// under test on `harness.backend`.
    public func execute(_ harness: OpHarness) throws {
        let backend = harness.backend
        let epsilon: Float = 1e-5
        var x = harness.normal(rows * cols).map { $0 + 3 }
        if nonFinite { harness.injectNonFinite(&x, count: 3) }
        let input = try harness.input("input", x)
        let weight = try harness.input("weight", harness.uniform(cols, 0.5, 1.5))
        let biasView = bias ? try harness.input("bias", harness.uniform(cols)) : nil
        // Forward outputs are compared in forward cases and only feed the backward otherwise.
        let make = { (name: String, count: Int) in
            backward ? try harness.scratch(name, count: count) : try harness.output(name, count: count)
        }
        let out = try make("out", rows * cols)
        let rstd = try make("rstd", rows)
        switch kind {
        case .layer:
            let mean = try make("mean", rows)
            try backend.layerNormForward(out: out, mean: mean, rstd: rstd, input: input, weight: weight,
                                         bias: biasView, rows: rows, cols: cols, epsilon: epsilon)
            guard backward else { return }
            let dout = try harness.input("dout", harness.normal(rows * cols))
            let dinput = try harness.output("dinput", initial: harness.uniform(rows * cols))
            let dweight = try harness.output("dweight", initial: harness.uniform(cols))
            let dbias = bias ? try harness.output("dbias", initial: harness.uniform(cols)) : nil
            try backend.layerNormBackward(dinput: dinput, dweight: dweight, dbias: dbias, dout: dout, input: input,
                                          weight: weight, mean: mean, rstd: rstd, rows: rows, cols: cols)
        case .rms:
            try backend.rmsNormForward(out: out, rstd: rstd, input: input, weight: weight,
                                       rows: rows, cols: cols, epsilon: epsilon)
            guard backward else { return }
            let dout = try harness.input("dout", harness.normal(rows * cols))
            let dinput = try harness.output("dinput", initial: harness.uniform(rows * cols))
            let dweight = try harness.output("dweight", initial: harness.uniform(cols))
            try backend.rmsNormBackward(dinput: dinput, dweight: dweight, dout: dout, input: input,
                                        weight: weight, rstd: rstd, rows: rows, cols: cols)
        }
    }

    static func catalogue(extended: Bool) -> [any ConformanceCase] {
        var shapes = [(1, 1), (3, 17), (65, 127), (17, 257)]
        if extended { shapes.append((512, 768)) }
        var cases: [any ConformanceCase] = []
        for (rows, cols) in shapes {
            for backward in [false, true] {
                cases.append(NormCase(.layer, backward: backward, bias: true, rows: rows, cols: cols))
                cases.append(NormCase(.layer, backward: backward, bias: false, rows: rows, cols: cols))
                cases.append(NormCase(.rms, backward: backward, rows: rows, cols: cols))
            }
        }
        cases.append(NormCase(.layer, backward: false, rows: 5, cols: 17, nonFinite: true))
        cases.append(NormCase(.rms, backward: false, rows: 5, cols: 17, nonFinite: true))
        return cases
    }
}
