// Conformance cases for KV-cache attention (inference): new query rows against cached keys/values.

import Compute

/// New rows start..<start+queries of one sequence: their queries (queries, NH, hs) against a cache
/// of start+queries rows of keys and values (2, KVH, hs). Covers decoding one token (queries 1) at
/// short and long prefixes, a prefill (start 0), and a chunk in the middle; head sizes include ones
/// that are not powers of two, KV heads KVH = NH, groups of 2 and 3, and KVH = 1 (multi-query).
///
/// Tolerance as attention forward (relative 1e-4, NMSE 1e-9): the same float32 sums over the
/// prefix against the reference's Double ones.
public struct AttentionCachedCase: OpCase {
    /// `start` rows already cached, `queries` new rows, `heads` query heads over `kvHeads` KV heads
    /// of `headDim` floats.
    public let start: Int, queries: Int, heads: Int, kvHeads: Int, headDim: Int

    /// `kvHeads` nil: one KV head per query head.
    public init(start: Int, queries: Int, heads: Int, kvHeads: Int? = nil, headDim: Int) {
        self.start = start
        self.queries = queries
        self.heads = heads
        self.kvHeads = kvHeads ?? heads
        self.headDim = headDim
    }

    /// The `Op` raw value of the call under test (what `--op` selects by).
    public var op: String { Op.attentionCachedForward.rawValue }
    /// Only the cached forward: the cache is uploaded, not computed by the backend.
    public var requiredOps: [Op] { [.attentionCachedForward] }
    /// Shape and options as `key=value` pairs, as the result line prints them.
    public var parameters: String { "start=\(start),queries=\(queries),NH=\(heads),KVH=\(kvHeads),hs=\(headDim)" }
    /// Derived from `description`: the same case draws the same inputs on every run.
    public var seed: UInt64 { Self.seed(for: description) }
    /// The bound derived in the type's doc comment.
    public var tolerance: Tolerance { Tolerance(nmse: 1e-9, relative: 1e-4) }

    /// Draws the seeded inputs and the guarded outputs through `harness`, then makes the one call
    /// under test on `harness.backend`.
    public func execute(_ harness: OpHarness) throws {
        let channels = heads * headDim, rows = start + queries
        let query = try harness.input("query", harness.normal(queries * channels, std: 1.5))
        let keysValues = try harness.input("keysValues", harness.normal(rows * 2 * kvHeads * headDim, std: 1.5))
        let out = try harness.output("out", count: queries * channels)
        try harness.backend.attentionCachedForward(out: out, query: query, keysValues: keysValues, start: start,
                                                   queries: queries, heads: heads, kvHeads: kvHeads, headDim: headDim)
    }

    /// (start, queries, NH, KVH, hs).
    static func catalogue(extended: Bool) -> [any ConformanceCase] {
        var shapes = [(0, 1, 2, 2, 16), (16, 1, 3, 3, 40), (0, 17, 2, 2, 64), (40, 9, 2, 2, 72), (256, 1, 2, 2, 64),
                      // Grouped-query attention: groups of 2 and 3, and multi-query.
                      (0, 1, 4, 1, 16), (33, 1, 6, 2, 40), (0, 17, 4, 2, 64), (40, 9, 6, 3, 72), (256, 1, 8, 1, 64)]
        if extended { shapes += [(1023, 1, 12, 12, 64), (0, 513, 4, 4, 128), (1023, 1, 12, 4, 64), (0, 513, 8, 2, 128)] }
        return shapes.map {
            AttentionCachedCase(start: $0.0, queries: $0.1, heads: $0.2, kvHeads: $0.3, headDim: $0.4)
        }
    }
}
