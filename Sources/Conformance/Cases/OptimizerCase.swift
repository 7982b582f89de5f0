// Conformance cases for the AdamW step and the squared global norm.

import Compute

/// AdamW over `count` parameters (parameters, first and second moments all updated in place and
/// compared), or squaredNorm of `count` values.
///
/// Tolerance: AdamW is elementwise with a sqrt, a division and bias corrections 1 - beta^t (pow in
/// float32 versus Double): relative 1e-5, NMSE 1e-11. squaredNorm sums `count` squares; a float32
/// running sum over 65,537 terms drifts by about eps·sqrt(n)·sum ≈ 1.5e-5 relative: relative 1e-4.
public struct OptimizerCase: OpCase {
    /// Which op of the family the case calls (its initializer refuses any other).
    public let kind: Op
    /// Parameters (or elements of the norm's input).
    public let count: Int
    /// AdamW's step number t >= 1, which sets the bias corrections.
    public let step: Int
    /// AdamW's decoupled weight decay.
    public let weightDecay: Float
    /// Plants NaN and ±Inf in the inputs; they must come out at the positions the math puts them.
    public let nonFinite: Bool

    /// An AdamW step or a squared norm over `count` elements; traps on another kind.
    public init(_ kind: Op, count: Int, step: Int = 1, weightDecay: Float = 0.1, nonFinite: Bool = false) {
        precondition(kind == .adamW || kind == .squaredNorm, "not an optimizer op: \(kind)")
        self.kind = kind
        self.count = count
        self.step = step
        self.weightDecay = weightDecay
        self.nonFinite = nonFinite
    }

    /// The `Op` raw value of the call under test (what `--op` selects by).
    public var op: String { kind.rawValue }
    /// Shape and options as `key=value` pairs, as the result line prints them.
    public var parameters: String {
        (kind == .adamW ? "n=\(count),step=\(step),wd=\(weightDecay)" : "n=\(count)") + (nonFinite ? ",nonfinite" : "")
    }
    /// Derived from `description`: the same case draws the same inputs on every run.
    public var seed: UInt64 { Self.seed(for: description) }
    /// True for the `nonFinite` variant only.
    public var injectsNonFinite: Bool { nonFinite }
    /// The bound derived in the type's doc comment.
    public var tolerance: Tolerance {
        kind == .adamW ? Tolerance(nmse: 1e-11, relative: 1e-5) : Tolerance(nmse: 1e-8, relative: 1e-4)
    }

    /// Draws the seeded inputs and the guarded outputs through `harness`, then makes the one call
    /// under test on `harness.backend`.
    public func execute(_ harness: OpHarness) throws {
        let backend = harness.backend
        switch kind {
        case .adamW:
            let parameters = try harness.output("parameters", initial: harness.normal(count, std: 0.1))
            let gradients = try harness.input("gradients", harness.normal(count, std: 0.01))
            let first = try harness.output("firstMoment", initial: harness.normal(count, std: 0.001))
            // The second moment is a running mean of squares: non-negative.
            let second = try harness.output("secondMoment", initial: harness.uniform(count, 0, 1e-4))
            try backend.adamW(parameters: parameters, gradients: gradients, firstMoment: first, secondMoment: second,
                              learningRate: 3e-3, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: weightDecay,
                              step: step, gradientScale: 0.5)
        default:
            var x = harness.normal(count)
            if nonFinite { harness.injectNonFinite(&x, count: 1) }
            try backend.squaredNorm(result: try harness.output("result", count: 1), input: try harness.input("input", x))
        }
    }

    static func catalogue(extended: Bool) -> [any ConformanceCase] {
        var cases: [any ConformanceCase] = []
        for count in [1, 17, 4099] + (extended ? [1 << 22] : []) {
            cases.append(OptimizerCase(.adamW, count: count, step: 1))
            cases.append(OptimizerCase(.adamW, count: count, step: 7, weightDecay: 0))
            cases.append(OptimizerCase(.squaredNorm, count: count))
        }
        cases.append(OptimizerCase(.squaredNorm, count: 65_537))
        cases.append(OptimizerCase(.squaredNorm, count: 257, nonFinite: true))
        return cases
    }
}
