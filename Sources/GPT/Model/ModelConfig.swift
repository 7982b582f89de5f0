// ModelConfig: every architecture variant the one model graph supports, plus the named presets.
// Codable so it round-trips through JSON config files and checkpoints (camelCase keys). `kvHeads`
// is written only when it differs from `heads` and reads as `heads` when absent, so configs and
// checkpoints from before grouped-query attention load unchanged and ungrouped ones look the same.
// `headDim` likewise: written only when the heads are not C/NH wide (Llama's head_dim, e.g. 4 heads
// of 16 in a 32-wide model), so the attention is NH·hs wide between the C-wide residual stream's
// q/k/v and output projections.

import Tokenizers

/// The architecture of a decoder-only transformer: sizes, and which norm, FFN activation and
/// position scheme it uses.
public struct ModelConfig: Codable, Equatable, Sendable {
    /// The normalisation before each sub-block and at the end.
    public enum Norm: String, Codable, Sendable, CaseIterable {
        /// LayerNorm: mean and variance, with gain and (when `bias`) bias (GPT-2).
        case layer
        /// RMSNorm: root mean square, gain only (Llama).
        case rms

        /// Decodes a case from its name; another name is an error that lists the cases.
        public init(from decoder: any Decoder) throws { self = try Self.decodeChoice(from: decoder) }
    }

    /// The FFN's activation.
    public enum Activation: String, Codable, Sendable, CaseIterable {
        /// max(0, x).
        case relu
        /// GELU, tanh approximation (GPT-2's gelu_new).
        case gelu
        /// SwiGLU: silu(gate) * up, with a gate and an up projection (Llama).
        case swiglu

        /// Decodes a case from its name; another name is an error that lists the cases.
        public init(from decoder: any Decoder) throws { self = try Self.decodeChoice(from: decoder) }
    }

    /// How positions enter the model.
    public enum Positions: String, Codable, Sendable, CaseIterable {
        /// A learned (T, C) table added to the token embeddings (GPT-2).
        case learned
        /// A fixed sinusoidal (T, C) table added to the token embeddings.
        case sinusoidal
        /// Rotary embeddings applied to queries and keys (Llama).
        case rope

        /// Decodes a case from its name; another name is an error that lists the cases.
        public init(from decoder: any Decoder) throws { self = try Self.decodeChoice(from: decoder) }
    }

    /// V: vocabulary size (char models: set from the tokenizer when training starts).
    public var vocabSize: Int
    /// Maximum sequence length T.
    public var contextLength: Int
    /// L: transformer blocks.
    public var layers: Int
    /// NH: attention (query) heads. A config without grouped-query attention keeps kvHeads equal to
    /// it when it changes.
    public var heads: Int {
        didSet {
            if groupedKVHeads == heads { groupedKVHeads = nil }
            normalizeHeadDim()
        }
    }
    /// KVH: key/value heads. Grouped-query attention when fewer than `heads` (which must be a
    /// multiple of it): query head h uses KV head h / (heads / kvHeads); 1 is multi-query attention.
    /// Follows `heads` until set to another value.
    public var kvHeads: Int {
        get { groupedKVHeads ?? heads }
        set { groupedKVHeads = newValue == heads ? nil : newValue }
    }
    /// kvHeads where it differs from heads, else nil: never equal to `heads`, so `==` compares what
    /// two configs mean.
    private var groupedKVHeads: Int?
    /// C: embedding dimension (multiple of heads unless `headDim` is set).
    public var embeddingDim: Int {
        didSet { normalizeHeadDim() }
    }
    /// F: FFN hidden size (for SwiGLU: the gate/up width).
    public var ffnDim: Int
    /// LayerNorm or RMSNorm.
    public var norm: Norm
    /// The FFN's activation.
    public var activation: Activation
    /// Learned, sinusoidal or rotary positions.
    public var positions: Positions
    /// Output head shares the token embedding matrix.
    public var tiedEmbeddings: Bool
    /// Biases on linear layers and LayerNorm.
    public var bias: Bool
    /// Dropout probability on embeddings, attention output and FFN output (training only).
    public var dropout: Float
    /// Added to the variance (or mean square) before the square root in every norm.
    public var normEpsilon: Float
    /// RoPE base frequency.
    public var ropeTheta: Float
    /// hs where it differs from C / NH, else nil (so `==` compares what two configs mean).
    private var explicitHeadDim: Int?

    /// A config; the defaults are GPT-2's choices (LayerNorm, GELU, learned positions, tied, biases,
    /// one KV head per query head: `kvHeads` nil means `heads`; heads C / NH wide: `headDim` nil).
    public init(vocabSize: Int, contextLength: Int, layers: Int, heads: Int, kvHeads: Int? = nil,
                headDim: Int? = nil, embeddingDim: Int, ffnDim: Int, norm: Norm = .layer, activation: Activation = .gelu,
                positions: Positions = .learned, tiedEmbeddings: Bool = true, bias: Bool = true,
                dropout: Float = 0, normEpsilon: Float = 1e-5, ropeTheta: Float = 10_000) {
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.layers = layers
        self.heads = heads
        groupedKVHeads = kvHeads == heads ? nil : kvHeads
        self.embeddingDim = embeddingDim
        self.ffnDim = ffnDim
        self.norm = norm
        self.activation = activation
        self.positions = positions
        self.tiedEmbeddings = tiedEmbeddings
        self.bias = bias
        self.dropout = dropout
        self.normEpsilon = normEpsilon
        self.ropeTheta = ropeTheta
        let evenSplit = heads > 0 && embeddingDim % heads == 0 ? embeddingDim / heads : nil
        explicitHeadDim = headDim == evenSplit ? nil : headDim
    }

    /// hs: per-head size, C / NH unless set to another value.
    public var headDim: Int {
        get { explicitHeadDim ?? embeddingDim / heads }
        set { explicitHeadDim = newValue * heads == embeddingDim ? nil : newValue }
    }

    /// Forgets an explicit head size that has become C / NH, so `==` still compares meanings.
    private mutating func normalizeHeadDim() {
        if let explicitHeadDim, explicitHeadDim * heads == embeddingDim { self.explicitHeadDim = nil }
    }

    /// A = NH·hs: width of the attention's output, the input of its output projection (C unless
    /// `headDim` is set).
    public var attentionWidth: Int { heads * headDim }

    /// Query heads per KV head (1 without grouped-query attention).
    public var queriesPerKVHead: Int { heads / kvHeads }

    /// Width of the qkv projection's output, (NH + 2·KVH)·hs: every query head, then the KV heads'
    /// keys, then their values (3C without grouped-query attention).
    public var qkvWidth: Int { (heads + 2 * kvHeads) * headDim }

    /// Throws a one-line error naming the first inconsistent field.
    public func validate() throws {
        func fail(_ reason: String) -> ModelError { .invalidConfig(reason) }
        if vocabSize < 1 { throw fail("vocabSize must be at least 1, got \(vocabSize)") }
        if contextLength < 1 { throw fail("contextLength must be at least 1, got \(contextLength)") }
        if layers < 1 { throw fail("layers must be at least 1, got \(layers)") }
        if heads < 1 { throw fail("heads must be at least 1, got \(heads)") }
        if let explicitHeadDim {
            if embeddingDim < 1 { throw fail("embeddingDim must be at least 1, got \(embeddingDim)") }
            if explicitHeadDim < 1 { throw fail("headDim must be at least 1, got \(explicitHeadDim)") }
            if positions != .rope {
                throw fail("headDim (\(explicitHeadDim)) other than embeddingDim / heads needs rope positions: "
                           + "GPT-2's fused c_attn is 3·embeddingDim wide")
            }
        } else if embeddingDim < 1 || embeddingDim % heads != 0 {
            throw fail("embeddingDim (\(embeddingDim)) must be a positive multiple of heads (\(heads))")
        }
        if kvHeads < 1 || heads % kvHeads != 0 {
            throw fail("kvHeads (\(kvHeads)) must divide heads (\(heads)): each KV head serves a whole group "
                       + "of query heads")
        }
        if kvHeads != heads && positions != .rope {
            throw fail("kvHeads (\(kvHeads)) below heads (\(heads)) needs rope positions: grouped-query attention "
                       + "uses the Llama layout (separate k_proj/v_proj); GPT-2's fused c_attn has no grouped form")
        }
        if ffnDim < 1 { throw fail("ffnDim must be at least 1, got \(ffnDim)") }
        if positions == .rope && headDim % 2 != 0 {
            throw fail("rope needs an even head size, got \(headDim)")
        }
        if positions == .sinusoidal && embeddingDim % 2 != 0 {
            throw fail("sinusoidal positions need an even embeddingDim, got \(embeddingDim)")
        }
        if !(0..<1).contains(dropout) { throw fail("dropout must be in [0, 1), got \(dropout)") }
        if !(normEpsilon > 0) { throw fail("normEpsilon must be positive, got \(normEpsilon)") }
        if !(ropeTheta > 0) { throw fail("ropeTheta must be positive, got \(ropeTheta)") }
        // Sizes from a file may multiply past 64 bits: refuse them here, before anything is sized.
        do {
            _ = try parameterCount()
            _ = try activationFloatCount(tokens: contextLength)
            _ = try kvCacheFloatCount()
        } catch {
            throw fail(error.description)
        }
    }
}

// MARK: - Codable

extension ModelConfig {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case vocabSize, contextLength, layers, heads, groupedKVHeads = "kvHeads", embeddingDim, ffnDim, norm
        case activation, positions, tiedEmbeddings, bias, dropout, normEpsilon, ropeTheta
        case explicitHeadDim = "headDim"
    }

    /// Every key is required except kvHeads, which defaults to heads, and headDim (C / NH).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(vocabSize: try c.decode(Int.self, forKey: .vocabSize),
                  contextLength: try c.decode(Int.self, forKey: .contextLength),
                  layers: try c.decode(Int.self, forKey: .layers), heads: try c.decode(Int.self, forKey: .heads),
                  kvHeads: try c.decodeIfPresent(Int.self, forKey: .groupedKVHeads),
                  headDim: try c.decodeIfPresent(Int.self, forKey: .explicitHeadDim),
                  embeddingDim: try c.decode(Int.self, forKey: .embeddingDim),
                  ffnDim: try c.decode(Int.self, forKey: .ffnDim), norm: try c.decode(Norm.self, forKey: .norm),
                  activation: try c.decode(Activation.self, forKey: .activation),
                  positions: try c.decode(Positions.self, forKey: .positions),
                  tiedEmbeddings: try c.decode(Bool.self, forKey: .tiedEmbeddings),
                  bias: try c.decode(Bool.self, forKey: .bias), dropout: try c.decode(Float.self, forKey: .dropout),
                  normEpsilon: try c.decode(Float.self, forKey: .normEpsilon),
                  ropeTheta: try c.decode(Float.self, forKey: .ropeTheta))
    }

    /// Every key a JSON ModelConfig may hold (kvHeads and headDim included, which `encode` omits
    /// when they are heads and embeddingDim / heads).
    static var jsonKeys: Set<String> { Set(CodingKeys.allCases.map(\.stringValue)) }
}

// MARK: - Presets

extension ModelConfig {
    /// Preset names, in the order `--help` lists them.
    public static let presetNames = ["char-baby", "shakespeare-char", "lyrics-char", "gpt2-124m", "llama-350m",
                                     "llama-char"]

    /// A named preset. Char presets carry a placeholder vocabulary that training replaces with the
    /// tokenizer's size.
    public static func preset(_ name: String) throws -> ModelConfig {
        switch name {
        case "char-baby":
            return ModelConfig(vocabSize: 96, contextLength: 64, layers: 4, heads: 4, embeddingDim: 128,
                               ffnDim: 512)
        case "shakespeare-char":
            return ModelConfig(vocabSize: 96, contextLength: 256, layers: 6, heads: 6, embeddingDim: 384,
                               ffnDim: 1536, dropout: 0.2)
        case "lyrics-char":
            return ModelConfig(vocabSize: 96, contextLength: 128, layers: 6, heads: 6, embeddingDim: 252,
                               ffnDim: 1008, activation: .relu, positions: .sinusoidal,
                               tiedEmbeddings: false, dropout: 0.1)
        case "gpt2-124m":
            return ModelConfig(vocabSize: 50257, contextLength: 1024, layers: 12, heads: 12,
                               embeddingDim: 768, ffnDim: 3072)
        case "llama-350m":
            return ModelConfig(vocabSize: 32000, contextLength: 2048, layers: 16, heads: 12,
                               embeddingDim: 768, ffnDim: 3072, norm: .rms, activation: .swiglu,
                               positions: .rope, tiedEmbeddings: true, bias: false, dropout: 0.1)
        case "llama-char":
            // shakespeare-char's size in the Llama family, with grouped-query attention as most Hub
            // Llama models have it: 6 query heads share 2 KV heads (a third of the KV cache).
            return ModelConfig(vocabSize: 96, contextLength: 256, layers: 6, heads: 6, kvHeads: 2,
                               embeddingDim: 384, ffnDim: 1024, norm: .rms, activation: .swiglu,
                               positions: .rope, tiedEmbeddings: true, bias: false, dropout: 0.1)
        default:
            throw ModelError.unknownPreset(name, known: presetNames)
        }
    }
}
