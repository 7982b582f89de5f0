// Conformance cases for the elementwise ops: add, addScaled, scale, addBias, biasBackward.

import Compute

/// One elementwise op at one size. `rows`×`cols` is the shape (count = rows·cols; add, addScaled
/// and scale see it as a flat vector).
///
/// Tolerance: add, scale and addBias are one float32 rounding each, addScaled one or two (a fused
/// multiply-add is allowed): `.ulps` (relative 1e-6). biasBackward sums `rows` values per column in
/// float32 in a backend versus Double in the reference: relative 1e-5, NMSE 1e-11.
public struct ElementwiseCase: OpCase {
    /// Which op of the family the case calls (its initializer refuses any other).
    public let kind: Op
    /// The input is `rows`×`cols`, row-major.
    public let rows: Int, cols: Int
    /// The scalar of addScaled and scale (ignored by the other ops).
    public let alpha: Float
    /// add only: `out` aliases `a`.
    public let inPlace: Bool
    /// Plants NaN and ±Inf in the inputs; they must come out at the positions the math puts them.
    public let nonFinite: Bool

    /// One case; traps on a kind outside the family (a catalogue bug, not input).
    public init(_ kind: Op, rows: Int, cols: Int, alpha: Float = 1, inPlace: Bool = false, nonFinite: Bool = false) {
        precondition([.add, .addScaled, .scale, .addBias, .biasBackward].contains(kind), "not elementwise: \(kind)")
        self.kind = kind
        self.rows = rows
        self.cols = cols
        self.alpha = alpha
        self.inPlace = inPlace
        self.nonFinite = nonFinite
    }

    /// The `Op` raw value of the call under test (what `--op` selects by).
    public var op: String { kind.rawValue }
    /// Shape and options as `key=value` pairs, as the result line prints them.
    public var parameters: String {
        var text = "rows=\(rows),cols=\(cols)"
        if kind == .addScaled || kind == .scale { text += ",alpha=\(alpha)" }
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
        kind == .biasBackward ? Tolerance(nmse: 1e-11, relative: 1e-5) : .ulps
    }

    /// Draws the seeded inputs and the guarded outputs through `harness`, then makes the one call
    /// under test on `harness.backend`.
    public func execute(_ harness: OpHarness) throws {
        let count = rows * cols
        let backend = harness.backend
        var x = harness.uniform(count, -2, 2)
        if nonFinite { harness.injectNonFinite(&x, count: 3) }
        switch kind {
        case .add:
            let b = try harness.input("b", harness.uniform(count, -2, 2))
            if inPlace {
                let a = try harness.output("out", initial: x)
                try backend.add(out: a, a: a, b: b)
            } else {
                let a = try harness.input("a", x)
                try backend.add(out: try harness.output("out", count: count), a: a, b: b)
            }
        case .addScaled:
            let y = try harness.output("y", initial: harness.uniform(count))
            try backend.addScaled(into: y, try harness.input("x", x), alpha: alpha)
        case .scale:
            let view = try harness.output("x", initial: x)
            try backend.scale(view, by: alpha)
        case .addBias:
            let out = try harness.output("out", initial: x)
            try backend.addBias(out: out, bias: try harness.input("bias", harness.uniform(cols)), rows: rows, cols: cols)
        case .biasBackward:
            let dbias = try harness.output("dbias", initial: harness.uniform(cols))
            try backend.biasBackward(dbias: dbias, dout: try harness.input("dout", x), rows: rows, cols: cols)
        default:
            preconditionFailure("not elementwise: \(kind)")
        }
    }

    static func catalogue(extended: Bool) -> [any ConformanceCase] {
        var cases: [any ConformanceCase] = []
        let shapes = [(1, 1), (3, 17), (65, 127), (257, 3)] + (extended ? [(1024, 3072)] : [])
        for (rows, cols) in shapes {
            cases.append(ElementwiseCase(.add, rows: rows, cols: cols))
            cases.append(ElementwiseCase(.addScaled, rows: rows, cols: cols, alpha: -0.75))
            cases.append(ElementwiseCase(.scale, rows: rows, cols: cols, alpha: 1.5))
            cases.append(ElementwiseCase(.addBias, rows: rows, cols: cols))
            cases.append(ElementwiseCase(.biasBackward, rows: rows, cols: cols))
        }
        // The learned-position backward: a broadcast over the batch (rows = B, cols = T*C).
        cases.append(ElementwiseCase(.biasBackward, rows: 4, cols: 17 * 65))
        cases.append(ElementwiseCase(.add, rows: 17, cols: 65, inPlace: true))
        cases.append(ElementwiseCase(.add, rows: 17, cols: 65, nonFinite: true))
        cases.append(ElementwiseCase(.scale, rows: 3, cols: 17, alpha: 0.5, nonFinite: true))
        cases.append(ElementwiseCase(.addScaled, rows: 3, cols: 17, alpha: 2, nonFinite: true))
        return cases
    }
}
