// Conformance cases for fused causal self-attention, forward and backward.

import Compute

/// Attention over qkv (B, T, NH + 2·KVH, hs). Sequence lengths 1, 17, 33, 65, 127, 257 are
/// deliberately not multiples of any tile size, head sizes 16, 20, 24, 40, 64, 72 include ones that
/// are not powers of two (20: nor a multiple of 8), and KV heads run from KVH = NH (no grouping)
/// through groups of 2 and 3 to KVH = 1 (multi-query), where dK/dV sum over every query head. The
/// backward feeds out and logsumexp from the same backend's forward, as training does.
///
/// Tolerance (looser than other ops): a fused, tiled kernel rescales partial softmax sums as it goes
/// (online softmax) and sums T·hs products per output in float32, while the reference materialises
/// the scores and sums in Double. Forward: relative 1e-4, NMSE 1e-9. The backward chains two more
/// reductions over T (dP = dout·V, dS = P∘(dP - D)) and the k/v gradients sum over all later queries:
/// relative 5e-4, NMSE 1e-8.
public struct AttentionCase: OpCase {
    /// Runs the backward op (fed by a forward on the same inputs) instead of the forward.
    public let backward: Bool
    /// B, T, NH query heads over KVH = `kvHeads` KV heads, hs = `headDim`.
    public let batch: Int, sequenceLength: Int, heads: Int, kvHeads: Int, headDim: Int

    /// `kvHeads` nil: one KV head per query head.
    public init(backward: Bool, batch: Int, sequenceLength: Int, heads: Int, kvHeads: Int? = nil, headDim: Int) {
        self.backward = backward
        self.batch = batch
        self.sequenceLength = sequenceLength
        self.heads = heads
        self.kvHeads = kvHeads ?? heads
        self.headDim = headDim
    }

    /// The `Op` raw value of the call under test (what `--op` selects by).
    public var op: String { (backward ? Op.attentionBackward : Op.attentionForward).rawValue }
    /// The backward also needs the forward that produces its `out` and `logsumexp`.
    public var requiredOps: [Op] { backward ? [.attentionForward, .attentionBackward] : [.attentionForward] }
    /// Shape and options as `key=value` pairs, as the result line prints them.
    public var parameters: String { "B=\(batch),T=\(sequenceLength),NH=\(heads),KVH=\(kvHeads),hs=\(headDim)" }
    /// Derived from `description`: the same case draws the same inputs on every run.
    public var seed: UInt64 { Self.seed(for: description) }
    /// The bound derived in the type's doc comment.
    public var tolerance: Tolerance {
        backward ? Tolerance(nmse: 1e-8, relative: 5e-4) : Tolerance(nmse: 1e-9, relative: 1e-4)
    }

    /// Draws the seeded inputs and the guarded outputs through `harness`, then makes the one call
    /// under test on `harness.backend`.
    public func execute(_ harness: OpHarness) throws {
        let backend = harness.backend
        let channels = heads * headDim, tokens = batch * sequenceLength, rowWidth = (heads + 2 * kvHeads) * headDim
        // std 1.5: scores of order ±2-3 after 1/sqrt(hs), so softmax rows are neither flat nor one-hot.
        let qkv = try harness.input("qkv", harness.normal(tokens * rowWidth, std: 1.5))
        let out = backward ? try harness.scratch("out", count: tokens * channels)
            : try harness.output("out", count: tokens * channels)
        let logsumexp = backward ? try harness.scratch("logsumexp", count: batch * heads * sequenceLength)
            : try harness.output("logsumexp", count: batch * heads * sequenceLength)
        try backend.attentionForward(out: out, logsumexp: logsumexp, qkv: qkv, batch: batch,
                                     sequenceLength: sequenceLength, heads: heads, kvHeads: kvHeads, headDim: headDim)
        guard backward else { return }
        let dout = try harness.input("dout", harness.normal(tokens * channels))
        let dqkv = try harness.output("dqkv", count: tokens * rowWidth)
        try backend.attentionBackward(dqkv: dqkv, dout: dout, qkv: qkv, out: out, logsumexp: logsumexp,
                                      batch: batch, sequenceLength: sequenceLength, heads: heads, kvHeads: kvHeads,
                                      headDim: headDim)
    }

    /// (B, T, NH, KVH, hs).
    static func catalogue(extended: Bool) -> [any ConformanceCase] {
        var shapes = [(2, 1, 2, 2, 16), (1, 17, 3, 3, 40), (2, 65, 2, 2, 64), (1, 127, 2, 2, 72), (1, 257, 1, 1, 64),
                      (1, 257, 2, 2, 16),
                      // Grouped-query attention: groups of 2 and 3, and multi-query.
                      (2, 33, 4, 2, 40), (1, 65, 6, 2, 24), (2, 17, 3, 1, 16), (1, 127, 4, 1, 72), (1, 257, 4, 2, 64),
                      // A head size that is not a multiple of 8 (a CPU kernel's padded copies).
                      (2, 33, 4, 2, 20)]
        if extended {
            shapes += [(2, 256, 6, 6, 64), (1, 1024, 2, 2, 64), (1, 513, 1, 1, 128),
                       (2, 256, 12, 4, 64), (1, 1024, 8, 1, 64), (1, 513, 4, 2, 128)]
        }
        return [false, true].flatMap { backward in
            shapes.map {
                AttentionCase(backward: backward, batch: $0.0, sequenceLength: $0.1, heads: $0.2, kvHeads: $0.3,
                              headDim: $0.4) as any ConformanceCase
            }
        }
    }
}
