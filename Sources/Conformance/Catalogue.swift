// The conformance catalogue: every case the tests and `gpt conformance` run, in one list.
//
// Adding an op = one case type in Cases/ (a small struct conforming to `OpCase`: parameters, seed,
// tolerance with its justification, `execute`) plus one line in `families` below. Adding a shape =
// one entry in that case's `catalogue(extended:)`. The tests and the CLI pick both up unchanged.
//
// `standard` is sized so the whole ConformanceTests target runs in well under two minutes in a debug
// build on two cores; `extended` adds model-sized shapes for `gpt conformance --extended`.

import Compute
import GPT

/// Every conformance case the tests and `gpt conformance` run.
public enum Catalogue {
    /// One entry per op family (cases for every protocol op, forward and backward) and the model.
    static let families: [@Sendable (_ extended: Bool) -> [any ConformanceCase]] = [
        MemoryCase.catalogue,
        MatmulCase.catalogue,
        ElementwiseCase.catalogue,
        EmbeddingCase.catalogue,
        NormCase.catalogue,
        ActivationCase.catalogue,
        RopeCase.catalogue,
        AttentionCase.catalogue,
        AttentionCachedCase.catalogue,
        SoftmaxCase.catalogue,
        OptimizerCase.catalogue,
        ModelCase.catalogue,
    ]

    /// The cases `swift test` runs.
    public static var standard: [any ConformanceCase] { families.flatMap { $0(false) } }

    /// `standard` plus larger, model-sized shapes.
    public static var extended: [any ConformanceCase] { families.flatMap { $0(true) } }

    /// Cases whose op is `name` or starts with it, ignoring case ("attention" selects
    /// attentionForward and attentionBackward; "model" the whole-model cases).
    public static func filter(_ cases: [any ConformanceCase], op name: String?) -> [any ConformanceCase] {
        guard let name, !name.isEmpty else { return cases }
        let wanted = name.lowercased()
        return cases.filter { $0.op.lowercased().hasPrefix(wanted) }
    }

    /// Memory an op case may take, on the backend and the oracle together: the largest (the
    /// extended 511 × 509 × 1021 matmul) needs about 10 MB with its guard regions and host copies.
    static let opCaseAllowance = 64 << 20

    /// What running `cases` needs at most at once: the largest whole-model case on the backend and
    /// on the oracle (each trains it), or an op case's allowance.
    public static func memoryEstimate(of cases: [any ConformanceCase]) throws -> MemoryEstimate {
        let models = try cases.compactMap { $0 as? ModelCase }.map {
            try MemoryEstimate.training($0.config, batch: $0.batch, heldBatches: 1).totalBytes
        }
        return try MemoryEstimate([
            MemoryEstimate.Part("the largest model case, on the backend and the oracle",
                                bytes: try CheckedSize.product(2, models.max() ?? 0, of: "the model cases")),
            MemoryEstimate.Part("an op case (allowance)", bytes: opCaseAllowance),
        ])
    }

    /// Every op family name in the catalogue, for `--op` error messages.
    public static var opNames: [String] {
        var seen: [String] = []
        for testCase in standard where !seen.contains(testCase.op) { seen.append(testCase.op) }
        return seen
    }
}
