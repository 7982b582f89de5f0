// FLOP accounting for a ModelConfig: the model FLOPs per trained token that `gpt bench` divides by
// time, and the list of matmul shapes one training step runs (the shapes `gpt bench` times SGEMM at).
//
// The formula (the usual "6N + attention" estimate, nanoGPT's/PaLM's MFU accounting, with the
// causal half of attention):
//
//   FLOPs per token = 6·P + 6·L·T·C
//
//   P = parameters that multiply activations in a matmul: every block's qkv (W×C with
//       W = (NH + 2·KVH)·hs, 3C×C without grouped-query attention), attention projection (C×A,
//       A = NH·hs: C×C unless the config sets headDim; A then replaces C in the attention term),
//       FFN up (F×C, or 2F×C for SwiGLU) and down (C×F), plus the output head (V×C, counted once
//       even when tied to the token embedding). Embedding lookups, position tables, norms and
//       biases do O(1) work per parameter and are left out.
//       6 = 2 (multiply-add) × 3 (forward, plus the two backward products dinput and dW).
//   6·L·T·C = causal attention. Per token and layer the forward runs q·kᵀ and p·v over on average
//       T/2 keys: 2 products × 2 FLOPs × (T/2)·C = 2·T·C; backward costs twice the forward; so
//       12·L·T·C / 2. (Flash-style recomputation in the backward is not counted: model FLOPs, not
//       hardware FLOPs.) Every query head attends over its own scores, so grouped-query attention
//       (fewer K/V heads) leaves this term unchanged: it shrinks only the k and v projections.

/// The model FLOPs of training a config, and the matmul shapes of one training step.
public struct FlopCount: Equatable, Sendable {
    /// One matmul of a training step: C (m×n) = op(A) (m×k) · op(B) (k×n), run `callsPerStep` times.
    public struct MatmulShape: Equatable, Sendable {
        /// What it computes, e.g. "qkv fwd", "qkv dW", "ffn down dinput".
        public let role: String
        /// The product's dimensions: C is m×n, the inner dimension k.
        public let m: Int, n: Int, k: Int
        /// Whether A and B are read transposed.
        public let transposeA: Bool, transposeB: Bool
        /// 1: overwrite; weight-gradient products accumulate (beta = 1).
        public let beta: Float
        /// How often one training step runs it.
        public let callsPerStep: Int

        /// 2·m·n·k.
        public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    }

    /// The config counted.
    public let config: ModelConfig
    /// P: parameters that take part in matmuls (see the file comment).
    public let matmulParameters: Int

    /// The counts for `config`.
    public init(config: ModelConfig) {
        self.config = config
        let c = config.embeddingDim, f = config.ffnDim, v = config.vocabSize
        let up = config.activation == .swiglu ? 2 * f : f
        matmulParameters = config.layers * (config.qkvWidth * c + c * config.attentionWidth + up * c + c * f) + v * c
    }

    /// 6·P: the linear layers' FLOPs per trained token.
    public var linearFlopsPerToken: Double { 6 * Double(matmulParameters) }

    /// 6·L·T·C: causal attention FLOPs per trained token at sequence length `length` (with the
    /// attention width A = NH·hs in place of C where a config's heads are not C / NH wide).
    public func attentionFlopsPerToken(length: Int) -> Double {
        6 * Double(config.layers) * Double(length) * Double(config.attentionWidth)
    }

    /// Model FLOPs per trained token: 6·P + 6·L·T·C.
    public func trainingFlopsPerToken(length: Int) -> Double {
        linearFlopsPerToken + attentionFlopsPerToken(length: length)
    }

    /// The formula with this model's numbers, for printing next to the result.
    public func formula(length: Int) -> String {
        let l = config.layers, a = config.attentionWidth, width = a == config.embeddingDim ? "C" : "A"
        return "6*P + 6*L*T*\(width) = 6*\(matmulParameters) + 6*\(l)*\(length)*\(a) = "
            + "\(Int(trainingFlopsPerToken(length: length))) FLOPs per token"
            + " (P = matmul weights incl. the output head; attention counted causal)"
    }

    /// Every distinct matmul a training step runs on `rows` = B·T tokens, in the model's order:
    /// forward `out = x·Wᵀ` (m = N, n = out, k = in, transposeB), then backward
    /// `dW += doutᵀ·x` (m = out, n = in, k = N, transposeA, beta 1) and `dx = dout·W` (m = N, n = in,
    /// k = out). Attention's own products run inside the fused attention op and are not listed.
    public func matmulShapes(rows: Int) -> [MatmulShape] {
        let c = config.embeddingDim, f = config.ffnDim, v = config.vocabSize, l = config.layers
        let up = config.activation == .swiglu ? 2 * f : f
        let linears: [(name: String, outDim: Int, inDim: Int, calls: Int)] = [
            ("qkv", config.qkvWidth, c, l), ("attn proj", c, config.attentionWidth, l), ("ffn up", up, c, l), ("ffn down", c, f, l),
            ("head", v, c, 1),
        ]
        var shapes: [MatmulShape] = []
        for linear in linears {
            shapes.append(MatmulShape(role: linear.name + " fwd", m: rows, n: linear.outDim, k: linear.inDim,
                                      transposeA: false, transposeB: true, beta: 0, callsPerStep: linear.calls))
            shapes.append(MatmulShape(role: linear.name + " dW", m: linear.outDim, n: linear.inDim, k: rows,
                                      transposeA: true, transposeB: false, beta: 1, callsPerStep: linear.calls))
            shapes.append(MatmulShape(role: linear.name + " dinput", m: rows, n: linear.inDim, k: linear.outDim,
                                      transposeA: false, transposeB: false, beta: 0, callsPerStep: linear.calls))
        }
        return shapes
    }
}
