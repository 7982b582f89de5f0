// The Hugging Face side of a checkpoint: config.json fields that transformers reads
// (GPT2LMHeadModel or LlamaForCausalLM, chosen by `ParameterLayout.usesLlamaNames`), and the mapping
// between our flat parameter buffer and HF-named, HF-shaped tensors.
//
// `from_pretrained` reproduces our logits for the variants transformers has: GPT-2 (LayerNorm,
// gelu_new or relu, learned or sinusoidal positions stored as `transformer.wpe.weight`) and Llama
// (RMSNorm, SwiGLU, RoPE; grouped-query attention as num_key_value_heads, with k_proj and v_proj
// of num_key_value_heads·head_dim rows). Other combinations still save and load here; transformers
// would not reproduce them. Our own ModelConfig rides along under the key "gpt", which transformers ignores.
// bos_token_id and eos_token_id are the tokenizer's, or null when it has none: absent, transformers
// would assume its class defaults (GPT-2's 50256), outside most of our vocabularies.

import Tokenizers

/// config.json: HF fields (nil ones are omitted) plus our ModelConfig under "gpt".
struct CheckpointConfigFile: Codable {
    var gpt: ModelConfig
    var modelType: String?
    var architectures: [String]?
    var vocabSize: Int?
    var tieWordEmbeddings: Bool?
    var torchDtype: String?
    var bosTokenID: TokenIDs?, eosTokenID: TokenIDs?
    // GPT-2
    var nPositions: Int?, nCtx: Int?, nEmbd: Int?, nLayer: Int?, nHead: Int?, nInner: Int?
    var activationFunction: String?
    var layerNormEpsilon: Float?
    var residPdrop: Float?, embdPdrop: Float?, attnPdrop: Float?
    // Llama
    var hiddenSize: Int?, intermediateSize: Int?, numHiddenLayers: Int?, numAttentionHeads: Int?
    var numKeyValueHeads: Int?, headDim: Int?, maxPositionEmbeddings: Int?
    var rmsNormEps: Float?, ropeTheta: Float?
    var hiddenAct: String?
    var attentionBias: Bool?, mlpBias: Bool?, attentionDropout: Float?

    enum CodingKeys: String, CodingKey {
        case gpt
        case modelType = "model_type", architectures, vocabSize = "vocab_size"
        case tieWordEmbeddings = "tie_word_embeddings", torchDtype = "torch_dtype"
        case bosTokenID = "bos_token_id", eosTokenID = "eos_token_id"
        case nPositions = "n_positions", nCtx = "n_ctx", nEmbd = "n_embd", nLayer = "n_layer"
        case nHead = "n_head", nInner = "n_inner", activationFunction = "activation_function"
        case layerNormEpsilon = "layer_norm_epsilon", residPdrop = "resid_pdrop", embdPdrop = "embd_pdrop"
        case attnPdrop = "attn_pdrop"
        case hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads", headDim = "head_dim"
        case maxPositionEmbeddings = "max_position_embeddings", rmsNormEps = "rms_norm_eps"
        case ropeTheta = "rope_theta", hiddenAct = "hidden_act", attentionBias = "attention_bias"
        case mlpBias = "mlp_bias", attentionDropout = "attention_dropout"
    }

    init(_ config: ModelConfig, boundaries: SequenceBoundaries = .none) {
        gpt = config
        bosTokenID = TokenIDs(boundaries.beginOfSequence.map { [$0] } ?? [])
        eosTokenID = TokenIDs(boundaries.endOfSequence)
        vocabSize = config.vocabSize
        tieWordEmbeddings = config.tiedEmbeddings
        torchDtype = "float32"
        if ParameterLayout(config).usesLlamaNames {
            modelType = "llama"
            architectures = ["LlamaForCausalLM"]
            hiddenSize = config.embeddingDim
            intermediateSize = config.ffnDim
            numHiddenLayers = config.layers
            numAttentionHeads = config.heads
            numKeyValueHeads = config.kvHeads
            headDim = config.headDim
            maxPositionEmbeddings = config.contextLength
            rmsNormEps = config.normEpsilon
            ropeTheta = config.ropeTheta
            hiddenAct = config.activation == .swiglu ? "silu" : config.activation.rawValue
            attentionBias = config.bias
            mlpBias = config.bias
            attentionDropout = 0
        } else {
            modelType = "gpt2"
            architectures = ["GPT2LMHeadModel"]
            nPositions = config.contextLength
            nCtx = config.contextLength
            nEmbd = config.embeddingDim
            nLayer = config.layers
            nHead = config.heads
            nInner = config.ffnDim
            activationFunction = config.activation == .gelu ? "gelu_new" : config.activation.rawValue
            layerNormEpsilon = config.normEpsilon
            residPdrop = config.dropout
            embdPdrop = config.dropout
            attnPdrop = 0
        }
    }
}

/// A config.json token id field: null, one id, or a list (Llama 3's several end-of-sequence ids).
enum TokenIDs: Codable, Equatable {
    case none
    case one(Int)
    case many([Int])

    init(_ ids: [Int32]) {
        switch ids.count {
        case 0: self = .none
        case 1: self = .one(Int(ids[0]))
        default: self = .many(ids.map(Int.init))
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .none
        } else if let id = try? container.decode(Int.self) {
            self = .one(id)
        } else {
            self = .many(try container.decode([Int].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .none: try container.encodeNil()
        case let .one(id): try container.encode(id)
        case let .many(ids): try container.encode(ids)
        }
    }
}

extension Checkpoint {
    /// GPT-2 bias tensors transformers always expects; a bias-free model stores them as zeros.
    static func gpt2BiasShapes(_ config: ModelConfig) -> [(name: String, shape: [Int])] {
        let c = config.embeddingDim
        let up = config.activation == .swiglu ? 2 * config.ffnDim : config.ffnDim
        var shapes: [(String, [Int])] = []
        for i in 0..<config.layers {
            let p = "transformer.h.\(i)."
            shapes += [(p + "ln_1.bias", [c]), (p + "attn.c_attn.bias", [3 * c]), (p + "attn.c_proj.bias", [c]),
                       (p + "ln_2.bias", [c]), (p + "mlp.c_fc.bias", [up]), (p + "mlp.c_proj.bias", [c])]
        }
        return shapes + [("transformer.ln_f.bias", [c])]
    }

    /// Our flat parameters as HF tensors: HF names and shapes, Conv1D weights transposed, zero
    /// biases added where GPT-2 expects them and the model has none, tied heads stored once.
    static func huggingFaceTensors(config: ModelConfig, layout: ParameterLayout, values: [Float]) -> [NamedTensor] {
        var tensors = layout.entries.map { entry in
            let slice = Array(values[entry.offset ..< entry.offset + entry.count])
            return NamedTensor(name: entry.name, shape: entry.huggingFaceShape,
                               values: entry.huggingFaceTransposed ? transpose(slice, rows: entry.shape[0], columns: entry.shape[1]) : slice)
        }
        if !layout.usesLlamaNames {
            for bias in gpt2BiasShapes(config) where layout.entry(named: bias.name) == nil {
                tensors.append(NamedTensor(name: bias.name, shape: bias.shape,
                                           values: Array(repeating: 0, count: bias.shape.reduce(1, *))))
            }
        }
        return tensors
    }

    /// Row-major (rows × columns) -> (columns × rows).
    static func transpose(_ values: [Float], rows: Int, columns: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: values.count) { out, initialized in
            values.withUnsafeBufferPointer { source in
                for r in 0..<rows {
                    for c in 0..<columns { out[c * rows + r] = source[r * columns + c] }
                }
            }
            initialized = values.count
        }
    }
}
