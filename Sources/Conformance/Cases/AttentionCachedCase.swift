// Conformance cases for KV-cache attention (inference): new query rows against cached keys/values.

import Compute

/// New rows start..<start+queries of one sequence against a cache of start+queries rows. Covers
/// decoding one token (queries 1) at short and long prefixes, a prefill (start 0), and a chunk in
/// the middle; head sizes include ones that are not powers of two.
///
/// Tolerance as attention forward (relative 1e-4, NMSE 1e-9): the same float32 sums over the
/// prefix against the reference's Double ones.
public struct AttentionCachedCase: OpCase {
    public let start: Int, queries: Int, heads: Int, headDim: Int

    public init(start: Int, queries: Int, heads: Int, headDim: Int) {
        self.start = start
        self.queries = queries
        self.heads = heads
        self.headDim = headDim
    }

    public var op: String { Op.attentionCachedForward.rawValue }
    public var requiredOps: [Op] { [.attentionCachedForward] }
    public var parameters: String { "start=\(start),queries=\(queries),NH=\(heads),hs=\(headDim)" }
    public var seed: UInt64 { Self.seed(for: description) }
    public var tolerance: Tolerance { Tolerance(nmse: 1e-9, relative: 1e-4) }

    public func execute(_ harness: OpHarness) throws {
        let channels = heads * headDim, rows = start + queries
        let qkv = try harness.input("qkv", harness.normal(rows * 3 * channels, std: 1.5))
        let out = try harness.output("out", count: queries * channels)
        try harness.backend.attentionCachedForward(out: out, qkv: qkv, start: start, queries: queries,
                                                   heads: heads, headDim: headDim)
    }

    static func catalogue(extended: Bool) -> [any ConformanceCase] {
        var shapes = [(0, 1, 2, 16), (16, 1, 3, 40), (0, 17, 2, 64), (40, 9, 2, 72), (256, 1, 2, 64)]
        if extended { shapes += [(1023, 1, 12, 64), (0, 513, 4, 128)] }
        return shapes.map { AttentionCachedCase(start: $0.0, queries: $0.1, heads: $0.2, headDim: $0.3) }
    }
}
