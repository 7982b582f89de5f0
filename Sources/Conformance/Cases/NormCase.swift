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
    public enum Kind: String, Sendable { case layer, rms }
    public let kind: Kind
    public let backward: Bool
    public let bias: Bool
    public let rows: Int, cols: Int
    public let nonFinite: Bool

    public init(_ kind: Kind, backward: Bool, bias: Bool = true, rows: Int, cols: Int, nonFinite: Bool = false) {
        self.kind = kind
        self.backward = backward
        self.bias = kind == .layer && bias
        self.rows = rows
        self.cols = cols
        self.nonFinite = nonFinite
    }

    public var op: String {
        switch (kind, backward) {
        case (.layer, false): return Op.layerNormForward.rawValue
        case (.layer, true): return Op.layerNormBackward.rawValue
        case (.rms, false): return Op.rmsNormForward.rawValue
        case (.rms, true): return Op.rmsNormBackward.rawValue
        }
    }
    public var requiredOps: [Op] {
        kind == .layer ? [.layerNormForward] + (backward ? [.layerNormBackward] : [])
            : [.rmsNormForward] + (backward ? [.rmsNormBackward] : [])
    }
    public var parameters: String {
        "N=\(rows),C=\(cols)" + (kind == .layer ? ",bias=\(bias ? 1 : 0)" : "") + (nonFinite ? ",nonfinite" : "")
    }
    public var seed: UInt64 { Self.seed(for: description) }
    public var injectsNonFinite: Bool { nonFinite }
    public var tolerance: Tolerance {
        backward ? Tolerance(nmse: 1e-10, relative: 5e-5) : Tolerance(nmse: 1e-11, relative: 1e-5)
    }

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
