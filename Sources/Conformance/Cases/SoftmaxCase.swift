// Conformance cases for row softmax (forward and backward) and fused softmax + cross-entropy.

import Compute

/// Softmax over `rows`×`cols`, or cross-entropy over `rows`×V logits (`cols` = V) with int32 targets,
/// a few of them -1 (ignored rows: loss 0, zero gradient).
///
/// Tolerance: exp and a float32 sum over `cols` terms. Every output is divided by (or has the log of)
/// that sum, so the sum's rounding error, which grows like sqrt(cols)·eps, is the output's relative
/// error: relative max(1e-5, 3e-7·sqrt(cols)), NMSE max(1e-11, 1e-11·cols/1000). For the GPT-2
/// vocabulary (50,257) that is 6.7e-5 (measured on blas: 2.0e-5; at cols <= 1000: < 1e-6). Inputs get a
/// +`offset` shift (100 in some cases) so a kernel that forgets to subtract the row max overflows
/// exp (e^100 > Float.greatestFiniteMagnitude).
public struct SoftmaxCase: OpCase {
    /// Softmax forward, its backward, or fused cross-entropy.
    public enum Kind: String, Sendable { case forward, backward, crossEntropy }
    /// Softmax forward, its backward, or fused cross-entropy.
    public let kind: Kind
    /// `rows`×`cols` (cross-entropy: N×V).
    public let rows: Int, cols: Int
    /// Added to every input, so a kernel that skips the row max overflows.
    public let offset: Float
    /// Cross-entropy: also produce dlogits (in place over the logits when `inPlace`).
    public let withGradient: Bool
    /// Cross-entropy with gradient: dlogits overwrites the logits, as the contract allows.
    public let inPlace: Bool
    /// Plants NaN and ±Inf in the inputs; they must come out at the positions the math puts them.
    public let nonFinite: Bool

    /// One softmax or cross-entropy case.
    public init(_ kind: Kind, rows: Int, cols: Int, offset: Float = 0, withGradient: Bool = true,
                inPlace: Bool = false, nonFinite: Bool = false) {
        self.kind = kind
        self.rows = rows
        self.cols = cols
        self.offset = offset
        self.withGradient = withGradient
        self.inPlace = inPlace
        self.nonFinite = nonFinite
    }

    /// The `Op` raw value of the call under test (what `--op` selects by).
    public var op: String {
        switch kind {
        case .forward: return Op.softmaxForward.rawValue
        case .backward: return Op.softmaxBackward.rawValue
        case .crossEntropy: return Op.crossEntropyForward.rawValue
        }
    }
    /// The backward also needs the forward that produces its `out`.
    public var requiredOps: [Op] {
        switch kind {
        case .forward: return [.softmaxForward]
        case .backward: return [.softmaxForward, .softmaxBackward]
        case .crossEntropy: return [.crossEntropyForward]
        }
    }
    /// Shape and options as `key=value` pairs, as the result line prints them.
    public var parameters: String {
        var text = kind == .crossEntropy ? "N=\(rows),V=\(cols)" : "rows=\(rows),cols=\(cols)"
        if offset != 0 { text += ",offset=\(offset)" }
        if kind == .crossEntropy && !withGradient { text += ",nograd" }
        if inPlace { text += ",inplace" }
        if nonFinite { text += ",nonfinite" }
        return text
    }
    /// Derived from `description`: the same case draws the same inputs on every run.
    public var seed: UInt64 { Self.seed(for: description) }
    /// True for the `nonFinite` variant only.
    public var injectsNonFinite: Bool { nonFinite }
    /// The bound derived in the type's doc comment.
    public var tolerance: Tolerance {
        Tolerance(nmse: max(1e-11, 1e-11 * Double(cols) / 1000), relative: max(1e-5, 3e-7 * Double(cols).squareRoot()))
    }

    /// Draws the seeded inputs and the guarded outputs through `harness`, then makes the one call
    /// under test on `harness.backend`.
    public func execute(_ harness: OpHarness) throws {
        let backend = harness.backend
        let count = rows * cols
        var x = harness.normal(count, std: 3).map { $0 + offset }
        if nonFinite { harness.injectNonFinite(&x, count: 3) }
        switch kind {
        case .forward:
            if inPlace {
                let view = try harness.output("input", initial: x)
                try backend.softmaxForward(out: view, input: view, rows: rows, cols: cols)
            } else {
                try backend.softmaxForward(out: try harness.output("out", count: count), input: try harness.input("input", x),
                                           rows: rows, cols: cols)
            }
        case .backward:
            let out = try harness.scratch("out", count: count)
            try backend.softmaxForward(out: out, input: try harness.input("input", x), rows: rows, cols: cols)
            let dout = try harness.input("dout", harness.normal(count))
            try backend.softmaxBackward(dinput: try harness.output("dinput", count: count), dout: dout, out: out,
                                        rows: rows, cols: cols)
        case .crossEntropy:
            var targets = harness.integers(rows, below: cols)
            if rows >= 3 { targets[1] = -1; targets[rows - 1] = Int32(cols - 1) }
            let targetView = try harness.input("targets", targets)
            let losses = try harness.output("losses", count: rows)
            let scale = 1 / Float(rows)
            if !withGradient {
                try backend.crossEntropyForward(losses: losses, dlogits: nil, logits: try harness.input("logits", x),
                                                targets: targetView, rows: rows, vocabulary: cols, gradientScale: scale)
            } else if inPlace {
                let logits = try harness.output("logits", initial: x)
                try backend.crossEntropyForward(losses: losses, dlogits: logits, logits: logits, targets: targetView,
                                                rows: rows, vocabulary: cols, gradientScale: scale)
            } else {
                try backend.crossEntropyForward(losses: losses, dlogits: try harness.output("dlogits", count: count),
                                                logits: try harness.input("logits", x), targets: targetView,
                                                rows: rows, vocabulary: cols, gradientScale: scale)
            }
        }
    }

    static func catalogue(extended: Bool) -> [any ConformanceCase] {
        var shapes = [(1, 1), (3, 17), (17, 257), (5, 1000)]
        if extended { shapes.append((512, 50257)) }
        var cases: [any ConformanceCase] = []
        for (rows, cols) in shapes {
            cases.append(SoftmaxCase(.forward, rows: rows, cols: cols))
            cases.append(SoftmaxCase(.backward, rows: rows, cols: cols))
            cases.append(SoftmaxCase(.crossEntropy, rows: rows, cols: cols))
        }
        cases.append(SoftmaxCase(.forward, rows: 7, cols: 65, offset: 100))
        cases.append(SoftmaxCase(.forward, rows: 7, cols: 65, inPlace: true))
        cases.append(SoftmaxCase(.forward, rows: 7, cols: 65, nonFinite: true))
        cases.append(SoftmaxCase(.crossEntropy, rows: 9, cols: 65, offset: 100))
        cases.append(SoftmaxCase(.crossEntropy, rows: 9, cols: 65, withGradient: false))
        cases.append(SoftmaxCase(.crossEntropy, rows: 9, cols: 65, inPlace: true))
        cases.append(SoftmaxCase(.crossEntropy, rows: 9, cols: 65, nonFinite: true))
        return cases
    }
}
