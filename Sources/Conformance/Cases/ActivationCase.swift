// Conformance cases for GELU, ReLU, fused SwiGLU and dropout, forward and backward.

import Compute

/// One activation op over `rows`×`cols` elements (SwiGLU: input rows×2F with F = `cols`).
///
/// Tolerance, per op:
/// - relu: selection, no arithmetic: exact.
/// - gelu, swiglu: tanh/exp may come from different libm or vectorised approximations; a few ulps of
///   the transcendental plus float32 products: relative 1e-5, NMSE 1e-11.
/// - dropout: the mask must be identical to the reference's bit-for-bit (which elements are exactly
///   zero, compared separately as `<output>.zeros`); kept values are x/(1-p), where x·(1/(1-p)) is
///   allowed: `.ulps`.
public struct ActivationCase: OpCase {
    /// Which op of the family the case calls (its initializer refuses any other).
    public let kind: Op
    /// The input is `rows`×`cols`, row-major.
    public let rows: Int, cols: Int
    /// Dropout's drop probability p in [0, 1) (0 for the other ops).
    public let probability: Float
    /// Dropout's counter-RNG stream: backend and oracle must draw the same mask from it.
    public let dropoutSeed: UInt64
    /// Dropout's mask index of the first element (a part of a larger tensor).
    public let firstIndex: Int
    /// The output aliases the input (forward) or dout (backward), as the contract allows.
    public let inPlace: Bool
    /// Plants NaN and ±Inf in the inputs; they must come out at the positions the math puts them.
    public let nonFinite: Bool

    /// One case; `probability`, `dropoutSeed` and `firstIndex` matter for dropout only. Traps on a
    /// kind outside the family or an in-place SwiGLU (a catalogue bug, not input).
    public init(_ kind: Op, rows: Int, cols: Int, probability: Float = 0, dropoutSeed: UInt64 = 0,
                firstIndex: Int = 0, inPlace: Bool = false, nonFinite: Bool = false) {
        precondition([.geluForward, .geluBackward, .reluForward, .reluBackward, .swigluForward, .swigluBackward,
                      .dropoutForward, .dropoutBackward].contains(kind), "not an activation: \(kind)")
        precondition(!(inPlace && (kind == .swigluForward || kind == .swigluBackward)), "swiglu has no in-place form")
        self.kind = kind
        self.rows = rows
        self.cols = cols
        self.probability = probability
        self.dropoutSeed = dropoutSeed
        self.firstIndex = firstIndex
        self.inPlace = inPlace
        self.nonFinite = nonFinite
    }

    /// The `Op` raw value of the call under test (what `--op` selects by).
    public var op: String { kind.rawValue }
    /// Shape and options as `key=value` pairs, as the result line prints them.
    public var parameters: String {
        var text = kind == .swigluForward || kind == .swigluBackward ? "N=\(rows),F=\(cols)" : "rows=\(rows),cols=\(cols)"
        if kind == .dropoutForward || kind == .dropoutBackward { text += ",p=\(probability),dropseed=\(dropoutSeed)" }
        if firstIndex != 0 { text += ",first=\(firstIndex)" }
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
        switch kind {
        case .reluForward, .reluBackward: return .exact
        case .dropoutForward, .dropoutBackward: return .ulps
        default: return Tolerance(nmse: 1e-11, relative: 1e-5)
        }
    }

    /// Draws the seeded inputs and the guarded outputs through `harness`, then makes the one call
    /// under test on `harness.backend`.
    public func execute(_ harness: OpHarness) throws {
        let backend = harness.backend
        let count = rows * cols
        switch kind {
        case .geluForward, .reluForward:
            var x = harness.normal(count, std: 2)
            if nonFinite { harness.injectNonFinite(&x, count: 3) }
            let (out, input) = try inputAndOutput(harness, "input", x)
            if kind == .geluForward { try backend.geluForward(out: out, input: input) }
            else { try backend.reluForward(out: out, input: input) }
        case .geluBackward, .reluBackward:
            var x = harness.normal(count, std: 2)
            if kind == .reluBackward, count > 2 { x[0] = 0; x[1] = -0.0 }  // the kink: gradient 0 at x == 0
            if nonFinite { harness.injectNonFinite(&x, count: 3) }
            let input = try harness.input("input", x)
            let (dinput, dout) = try inputAndOutput(harness, "dout", harness.normal(count), output: "dinput")
            if kind == .geluBackward { try backend.geluBackward(dinput: dinput, dout: dout, input: input) }
            else { try backend.reluBackward(dinput: dinput, dout: dout, input: input) }
        case .swigluForward:
            let input = try harness.input("input", harness.normal(rows * 2 * cols, std: 2))
            try backend.swigluForward(out: try harness.output("out", count: count), input: input, rows: rows, hidden: cols)
        case .swigluBackward:
            let input = try harness.input("input", harness.normal(rows * 2 * cols, std: 2))
            let dout = try harness.input("dout", harness.normal(count))
            try backend.swigluBackward(dinput: try harness.output("dinput", count: rows * 2 * cols), dout: dout,
                                       input: input, rows: rows, hidden: cols)
        case .dropoutForward, .dropoutBackward:
            // Nonzero inputs, so an exact zero in the output means "dropped".
            let x = harness.uniform(count, 0.5, 1.5).enumerated().map { $0.offset % 2 == 0 ? $0.element : -$0.element }
            let backward = kind == .dropoutBackward
            let (out, input) = try inputAndOutput(harness, backward ? "dout" : "input", x, output: backward ? "dinput" : "out")
            if kind == .dropoutForward {
                try backend.dropoutForward(out: out, input: input, probability: probability, seed: dropoutSeed,
                                           firstIndex: firstIndex)
            } else {
                try backend.dropoutBackward(dinput: out, dout: input, probability: probability, seed: dropoutSeed,
                                            firstIndex: firstIndex)
            }
            harness.compareZeroPattern(of: inPlace ? (backward ? "dout" : "input") : (backward ? "dinput" : "out"))
        default:
            preconditionFailure("not an activation: \(kind)")
        }
    }

    /// The output view and the view it is computed from: one aliased view (named `name`) when `inPlace`.
    private func inputAndOutput(_ harness: OpHarness, _ name: String, _ values: [Float],
                                output: String = "out") throws -> (BufferView, BufferView) {
        if inPlace {
            let view = try harness.output(name, initial: values)
            return (view, view)
        }
        let input = try harness.input(name, values)
        return (try harness.output(output, count: values.count), input)
    }

    static func catalogue(extended: Bool) -> [any ConformanceCase] {
        var shapes = [(1, 1), (3, 17), (65, 127), (17, 257)]
        if extended { shapes.append((512, 1536)) }
        var cases: [any ConformanceCase] = []
        for (rows, cols) in shapes {
            for kind in [Op.geluForward, .geluBackward, .reluForward, .reluBackward, .swigluForward, .swigluBackward] {
                cases.append(ActivationCase(kind, rows: rows, cols: cols))
            }
        }
        for kind in [Op.geluForward, .reluBackward] { cases.append(ActivationCase(kind, rows: 3, cols: 17, inPlace: true)) }
        for kind in [Op.geluForward, .geluBackward, .reluForward, .reluBackward] {
            cases.append(ActivationCase(kind, rows: 3, cols: 17, nonFinite: true))
        }
        // Dropout: p = 0 copies; several probabilities and seeds (high seed bits matter too), in place.
        for kind in [Op.dropoutForward, .dropoutBackward] {
            for (index, probability) in [Float(0), 0.1, 0.5, 0.9].enumerated() {
                cases.append(ActivationCase(kind, rows: 65, cols: 63, probability: probability,
                                            dropoutSeed: UInt64(index) << 33 | 12_345))
            }
            cases.append(ActivationCase(kind, rows: 1, cols: 1, probability: 0.5, dropoutSeed: 7))
            cases.append(ActivationCase(kind, rows: 17, cols: 257, probability: 0.2, dropoutSeed: 99, inPlace: true))
            // A later part of a larger tensor (a data-parallel rank's rows), and indices that wrap past 2^32.
            cases.append(ActivationCase(kind, rows: 9, cols: 257, probability: 0.3, dropoutSeed: 5, firstIndex: 8 * 257))
            cases.append(ActivationCase(kind, rows: 3, cols: 33, probability: 0.5, dropoutSeed: 5,
                                        firstIndex: (1 << 32) - 40))
        }
        return cases
    }
}
