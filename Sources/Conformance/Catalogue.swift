// The conformance catalogue: every case the tests and `gpt conformance` run, in one list.
//
// Adding an op = one case type in Cases/ (a small struct conforming to `OpCase`: parameters, seed,
// tolerance with its justification, `execute`) plus one line in `families` below. Adding a shape =
// one entry in that case's `catalogue(extended:)`. The tests and the CLI pick both up unchanged.
//
// `standard` is sized so the whole ConformanceTests target runs in well under two minutes in a debug
// build on two cores; `extended` adds model-sized shapes for `gpt conformance --extended`.

import Compute

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

    /// Every op family name in the catalogue, for `--op` error messages.
    public static var opNames: [String] {
        var seen: [String] = []
        for testCase in standard where !seen.contains(testCase.op) { seen.append(testCase.op) }
        return seen
    }
}
