// Conformance cases for the token embedding lookup and its deterministic scatter-add backward.

import Compute

/// Embedding forward (out[i] = table[tokens[i]]) or backward (dtable[tokens[i]] += dout[i]) for
/// `count` tokens drawn from a `vocabulary` small enough that tokens repeat (the backward's hard part:
/// several rows of dout land on one row of dtable, summed in increasing i).
///
/// Tolerance: the forward copies rows: exact. The backward adds at most `count` values per row in
/// float32, in the contract's fixed order: relative 1e-5, NMSE 1e-11 (a backend that accumulates in
/// a wider type is still within it).
public struct EmbeddingCase: OpCase {
    /// Runs the backward op (fed by a forward on the same inputs) instead of the forward.
    public let backward: Bool
    /// `count` tokens below `vocabulary`, rows of `dim` floats.
    public let count: Int, vocabulary: Int, dim: Int

    /// One forward or backward lookup at this size.
    public init(backward: Bool, count: Int, vocabulary: Int, dim: Int) {
        self.backward = backward
        self.count = count
        self.vocabulary = vocabulary
        self.dim = dim
    }

    /// The `Op` raw value of the call under test (what `--op` selects by).
    public var op: String { (backward ? Op.embeddingBackward : Op.embeddingForward).rawValue }
    /// Shape and options as `key=value` pairs, as the result line prints them.
    public var parameters: String { "N=\(count),V=\(vocabulary),C=\(dim)" }
    /// Derived from `description`: the same case draws the same inputs on every run.
    public var seed: UInt64 { Self.seed(for: description) }
    /// The bound derived in the type's doc comment.
    public var tolerance: Tolerance { backward ? Tolerance(nmse: 1e-11, relative: 1e-5) : .exact }

    /// Draws the seeded inputs and the guarded outputs through `harness`, then makes the one call
    /// under test on `harness.backend`.
    public func execute(_ harness: OpHarness) throws {
        var tokens = harness.integers(count, below: vocabulary)
        // Guarantee a repeat and the last row of the table.
        if count >= 3 { tokens[count - 1] = tokens[0]; tokens[1] = Int32(vocabulary - 1) }
        let tokenView = try harness.input("tokens", tokens)
        if backward {
            let dtable = try harness.output("dtable", initial: harness.uniform(vocabulary * dim))
            let dout = try harness.input("dout", harness.uniform(count * dim))
            try harness.backend.embeddingBackward(dtable: dtable, dout: dout, tokens: tokenView, count: count, dim: dim)
        } else {
            let table = try harness.input("table", harness.uniform(vocabulary * dim))
            let out = try harness.output("out", count: count * dim)
            try harness.backend.embeddingForward(out: out, table: table, tokens: tokenView, count: count, dim: dim)
        }
    }

    static func catalogue(extended: Bool) -> [any ConformanceCase] {
        var shapes = [(1, 1, 1), (17, 3, 65), (127, 65, 17), (257, 17, 3)]
        if extended { shapes.append((4096, 96, 384)) }
        return [false, true].flatMap { backward in
            shapes.map { EmbeddingCase(backward: backward, count: $0.0, vocabulary: $0.1, dim: $0.2) as any ConformanceCase }
        }
    }
}
