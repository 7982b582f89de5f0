// The parameter table: every tensor's Hugging Face name, shape and offset in the one flat buffer.
//
// Read by the model (views into parameters and gradients), the optimizer (which tensors decay) and
// checkpointing (names, shapes, transposes). Internally every linear weight is (out, in) row-major,
// as torch.nn.Linear stores it, so a linear layer is `x · Wᵀ`. GPT-2's Conv1D stores (in, out):
// those entries say `huggingFaceTransposed` and checkpoints transpose them on the way in and out.
//
// Naming follows the model family:
// - learned or sinusoidal positions: GPT2LMHeadModel (`transformer.h.{i}.attn.c_attn.weight`, ...);
// - rope: LlamaForCausalLM (`model.layers.{i}.self_attn.q_proj.weight`, ...).
// Fused ops need adjacency, which the layout guarantees: q, k, v projections form one
// ((NH + 2·KVH)·hs, C) matrix (Llama's q_proj (NH·hs, C), k_proj and v_proj (KVH·hs, C) each are placed
// back to back; GPT-2's c_attn is (3C, C), since GPT-2 has no grouped-query attention), and
// SwiGLU's gate and up projections one (2F, C) matrix, gate first.
//
// `entries` keep the Hugging Face order; offsets do not follow it. All trainable 2-D weights come
// first, then the 1-D tensors (norm gains, biases), then fixed tables, so AdamW updates the flat
// buffer in two launches (decayed, not decayed) instead of one per tensor.

/// One tensor of the flat parameter buffer.
public struct ParameterEntry: Equatable, Sendable {
    /// Hugging Face tensor name.
    public let name: String
    /// Our row-major shape.
    public let shape: [Int]
    /// First element in the flat buffer.
    public let offset: Int
    /// Decayed by AdamW (2-D weights only).
    public let weightDecay: Bool
    /// False for tensors that are computed, not learned (sinusoidal position tables).
    public let trainable: Bool
    /// Stored transposed in the Hugging Face file (GPT-2 Conv1D weights).
    public let huggingFaceTransposed: Bool
    /// The transformer block it belongs to (nil: embeddings, final norm, output head).
    public let block: Int?

    /// Elements: the product of `shape`.
    public var count: Int { shape.reduce(1, *) }
    /// The shape as Hugging Face stores it.
    public var huggingFaceShape: [Int] { huggingFaceTransposed ? shape.reversed() : shape }
}

/// Offsets of one transformer block's tensors (nil: absent in this variant).
public struct BlockOffsets: Sendable {
    /// The attention sub-block's norm: gain (C) and bias (C).
    public var norm1Weight = 0, norm1Bias: Int? = nil
    /// q, k and v projections as one matrix: ((NH + 2·KVH)·hs, C), ((NH + 2·KVH)·hs).
    public var qkvWeight = 0, qkvBias: Int? = nil
    /// The attention output projection: (C, NH·hs), (C).
    public var attentionProjWeight = 0, attentionProjBias: Int? = nil
    /// The FFN sub-block's norm: gain (C) and bias (C).
    public var norm2Weight = 0, norm2Bias: Int? = nil
    /// The FFN up projection: (F, C), or (2F, C) for SwiGLU with the gate rows first; bias (F).
    public var ffnUpWeight = 0, ffnUpBias: Int? = nil
    /// The FFN down projection: (C, F), (C).
    public var ffnDownWeight = 0, ffnDownBias: Int? = nil
}

/// Where every tensor of a config's model lives in the flat buffers, under its Hugging Face name.
public struct ParameterLayout: Sendable {
    /// Every tensor, in Hugging Face order.
    public private(set) var entries: [ParameterEntry] = []
    /// Each block's tensors.
    public private(set) var blocks: [BlockOffsets] = []
    /// The token embedding (V, C).
    public private(set) var tokenEmbedding = 0
    /// The position table (T, C), learned or sinusoidal; nil with RoPE.
    public private(set) var positionEmbedding: Int? = nil
    /// The final norm's gain (C).
    public private(set) var finalNormWeight = 0
    /// The final norm's bias (C), when the model has biases and LayerNorm.
    public private(set) var finalNormBias: Int? = nil
    /// The output head (V, C): the token embedding itself when tied.
    public private(set) var outputHead = 0
    /// Total number of floats.
    public private(set) var count = 0
    /// Names follow LlamaForCausalLM (RoPE models) rather than GPT2LMHeadModel.
    public let usesLlamaNames: Bool

    /// The layout of `config`'s model.
    public init(_ config: ModelConfig) {
        // A first pass sizes the three regions; the second lays the tensors out in them.
        let sizes = ParameterLayout(config, regionStarts: [.matrices: 0, .vectors: 0, .fixed: 0]).nextOffset
        self.init(config, regionStarts: [.matrices: 0, .vectors: sizes[.matrices]!,
                                         .fixed: sizes[.matrices]! + sizes[.vectors]!])
    }

    private init(_ config: ModelConfig, regionStarts: [Region: Int]) {
        nextOffset = regionStarts
        usesLlamaNames = config.positions == .rope
        let c = config.embeddingDim, f = config.ffnDim, v = config.vocabSize
        let kv = config.kvHeads * config.headDim, a = config.attentionWidth
        let up = config.activation == .swiglu ? 2 * f : f
        let llama = usesLlamaNames

        tokenEmbedding = add(llama ? "model.embed_tokens.weight" : "transformer.wte.weight", [v, c])
        if config.positions != .rope {
            positionEmbedding = add("transformer.wpe.weight", [config.contextLength, c],
                                    trainable: config.positions == .learned)
        }
        for i in 0..<config.layers {
            currentBlock = i
            defer { currentBlock = nil }
            var b = BlockOffsets()
            let p = llama ? "model.layers.\(i)." : "transformer.h.\(i)."
            let norm1 = llama ? "input_layernorm" : "ln_1", norm2 = llama ? "post_attention_layernorm" : "ln_2"
            let normBias = config.norm == .layer && config.bias
            b.norm1Weight = add(p + norm1 + ".weight", [c])
            if normBias { b.norm1Bias = add(p + norm1 + ".bias", [c]) }
            if llama {
                b.qkvWeight = add(p + "self_attn.q_proj.weight", [a, c])
                add(p + "self_attn.k_proj.weight", [kv, c])
                add(p + "self_attn.v_proj.weight", [kv, c])
                if config.bias {
                    b.qkvBias = add(p + "self_attn.q_proj.bias", [a])
                    add(p + "self_attn.k_proj.bias", [kv])
                    add(p + "self_attn.v_proj.bias", [kv])
                }
                b.attentionProjWeight = add(p + "self_attn.o_proj.weight", [c, a])
                if config.bias { b.attentionProjBias = add(p + "self_attn.o_proj.bias", [c]) }
            } else {
                b.qkvWeight = add(p + "attn.c_attn.weight", [3 * c, c], transposed: true)
                if config.bias { b.qkvBias = add(p + "attn.c_attn.bias", [3 * c]) }
                b.attentionProjWeight = add(p + "attn.c_proj.weight", [c, c], transposed: true)
                if config.bias { b.attentionProjBias = add(p + "attn.c_proj.bias", [c]) }
            }
            b.norm2Weight = add(p + norm2 + ".weight", [c])
            if normBias { b.norm2Bias = add(p + norm2 + ".bias", [c]) }
            if llama {
                if config.activation == .swiglu {
                    b.ffnUpWeight = add(p + "mlp.gate_proj.weight", [f, c])
                    add(p + "mlp.up_proj.weight", [f, c])
                    if config.bias {
                        b.ffnUpBias = add(p + "mlp.gate_proj.bias", [f])
                        add(p + "mlp.up_proj.bias", [f])
                    }
                } else {
                    b.ffnUpWeight = add(p + "mlp.up_proj.weight", [f, c])
                    if config.bias { b.ffnUpBias = add(p + "mlp.up_proj.bias", [f]) }
                }
                b.ffnDownWeight = add(p + "mlp.down_proj.weight", [c, f])
                if config.bias { b.ffnDownBias = add(p + "mlp.down_proj.bias", [c]) }
            } else {
                b.ffnUpWeight = add(p + "mlp.c_fc.weight", [up, c], transposed: true)
                if config.bias { b.ffnUpBias = add(p + "mlp.c_fc.bias", [up]) }
                b.ffnDownWeight = add(p + "mlp.c_proj.weight", [c, f], transposed: true)
                if config.bias { b.ffnDownBias = add(p + "mlp.c_proj.bias", [c]) }
            }
            blocks.append(b)
        }
        let finalNorm = llama ? "model.norm" : "transformer.ln_f"
        finalNormWeight = add(finalNorm + ".weight", [c])
        if config.norm == .layer && config.bias { finalNormBias = add(finalNorm + ".bias", [c]) }
        outputHead = config.tiedEmbeddings ? tokenEmbedding : add("lm_head.weight", [v, c])
        count = entries.reduce(0) { $0 + $1.count }
    }

    /// The entry with this Hugging Face name.
    public func entry(named name: String) -> ParameterEntry? { entries.first { $0.name == name } }

    /// Offsets of each region's next tensor, filled in by `init` before any `add`.
    private var nextOffset: [Region: Int] = [:]
    /// The block whose tensors `add` is adding, if any.
    private var currentBlock: Int?

    private enum Region: CaseIterable { case matrices, vectors, fixed }

    private static func region(shape: [Int], trainable: Bool) -> Region {
        trainable ? (shape.count == 2 ? .matrices : .vectors) : .fixed
    }

    @discardableResult
    private mutating func add(_ name: String, _ shape: [Int], trainable: Bool = true,
                              transposed: Bool = false) -> Int {
        let region = Self.region(shape: shape, trainable: trainable)
        let entry = ParameterEntry(name: name, shape: shape, offset: nextOffset[region]!, weightDecay: shape.count == 2,
                                   trainable: trainable, huggingFaceTransposed: transposed, block: currentBlock)
        entries.append(entry)
        nextOffset[region]! += entry.count
        return entry.offset
    }
}
