// A config.json written by transformers (no "gpt" key) as the ModelConfig that computes the same
// model: GPT2LMHeadModel (model_type "gpt2") or LlamaForCausalLM ("llama"). Absent fields take
// transformers' defaults for the class (GPT2Config, LlamaConfig: Llama's heads are untied unless
// said, GPT-2's tied). Each field is mapped, passed (it does not change the computation), or
// refused in one line naming it (HuggingFaceConfigReader.swift). Dropout rates describe the
// original training, not the model: an imported model has dropout 0, and `gpt train`'s --dropout
// sets it for fine-tuning.

import Tokenizers

enum HuggingFaceConfig {
    /// The model families read, by model_type, with the one architecture each may name.
    static let architectures = ["gpt2": "GPT2LMHeadModel", "llama": "LlamaForCausalLM"]

    /// The ModelConfig of a transformers config.json (`root`, read from `path`).
    static func modelConfig(_ root: JSONValue, path: String) throws -> ModelConfig {
        var reader = try HuggingFaceConfigReader(root, path: path)
        guard let type = try reader.string("model_type", default: nil) else {
            throw reader.fail("model_type",
                              "is missing: this config.json has neither our \"gpt\" key nor a transformers model_type")
        }
        guard let architecture = architectures[type] else {
            let supported = architectures.keys.sorted().joined(separator: ", ")
            throw reader.fail("model_type", "'\(type)' is not supported (supported: \(supported))")
        }
        if let named = reader.take("architectures"), named != .array([.string(architecture)]) {
            throw reader.fail("architectures", "\(HuggingFaceConfigReader.brief(named)) is not supported: "
                              + "a \(type) checkpoint must be [\"\(architecture)\"] (a language-model head)")
        }
        passCommonFields(&reader)
        let config = type == "gpt2" ? try gpt2(&reader) : try llama(&reader)
        try reader.refuseUntaken(family: architecture)
        do {
            try config.validate()
        } catch {
            throw reader.fail(type == "gpt2" ? "n_embd" : "hidden_size", "\(error)")
        }
        return config
    }

    /// Fields of every transformers config that do not change the computation, and the generic
    /// ones that would, refused unless they have their defaults.
    private static func passCommonFields(_ reader: inout HuggingFaceConfigReader) {
        reader.pass(["transformers_version", "_name_or_path", "dtype", "torch_dtype", "initializer_range", "use_cache",
                     "bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id", "decoder_start_token_id",
                     "output_attentions", "output_hidden_states", "return_dict", "torchscript", "tokenizer_class",
                     "task_specific_params", "id2label", "label2id", "problem_type", "finetuning_task", "prefix",
                     "gradient_checkpointing", "chunk_size_feed_forward", "is_decoder"])
    }

    private static func refuseGenericChanges(_ reader: inout HuggingFaceConfigReader) throws {
        try reader.refuse("is_encoder_decoder", unless: .bool(false), why: "only decoder-only models are imported")
        try reader.refuse("add_cross_attention", unless: .bool(false), why: "cross-attention is not implemented")
        try reader.refuse("pruned_heads", unless: .object([]), why: "pruned attention heads are not implemented")
        try reader.refuse("quantization_config", unless: .null,
                          why: "quantized weights are not read (float32, float16 and bfloat16 are)")
        try reader.refuse("auto_map", unless: .null, why: "the model would run custom code, which this importer cannot check")
    }

    // MARK: - GPT2LMHeadModel

    private static func gpt2(_ reader: inout HuggingFaceConfigReader) throws -> ModelConfig {
        let width = HuggingFaceConfigReader.maximumWidth
        let vocab = try reader.integer("vocab_size", default: 50257, in: 1...Int(Int32.max))!
        let context = try reader.integer("n_positions", default: 1024, in: 1...HuggingFaceConfigReader.maximumContext)!
        let channels = try reader.integer("n_embd", default: 768, in: 1...width)!
        let layers = try reader.integer("n_layer", default: 12, in: 1...HuggingFaceConfigReader.maximumLayers)!
        let heads = try reader.integer("n_head", default: 12, in: 1...channels)!
        let ffn = try reader.integer("n_inner", in: 1...width) ?? 4 * channels
        if let nCtx = try reader.integer("n_ctx", in: 1...HuggingFaceConfigReader.maximumContext), nCtx != context {
            throw reader.fail("n_ctx", "\(nCtx) differs from n_positions \(context)")
        }
        let activation: ModelConfig.Activation
        switch try reader.string("activation_function", default: "gelu_new")! {
        case "gelu_new", "gelu_pytorch_tanh": activation = .gelu
        case "relu": activation = .relu
        case "gelu":
            throw reader.fail("activation_function", "'gelu' (exact, with erf) is not implemented: this model's GELU is "
                              + "the tanh approximation, as gelu_new and gelu_pytorch_tanh are")
        case let other:
            throw reader.fail("activation_function", "'\(other)' is not supported (gelu_new, gelu_pytorch_tanh, relu are)")
        }
        let epsilon = try reader.positiveNumber("layer_norm_epsilon", default: 1e-5)!
        let tied = try reader.bool("tie_word_embeddings", default: true)
        try reader.refuse("scale_attn_weights", unless: .bool(true),
                          why: "attention scores are always scaled by 1/sqrt(head size)")
        try reader.refuse("scale_attn_by_inverse_layer_idx", unless: .bool(false),
                          why: "per-layer attention scaling is not implemented")
        try refuseGenericChanges(&reader)
        // reorder_and_upcast_attn changes only where mixed-precision training rounds; everything
        // here is float32. The summary_* fields configure GPT2DoubleHeadsModel's extra head.
        reader.pass(["reorder_and_upcast_attn", "resid_pdrop", "embd_pdrop", "attn_pdrop", "summary_type",
                     "summary_use_proj", "summary_activation", "summary_proj_to_labels", "summary_first_dropout"])
        return ModelConfig(vocabSize: vocab, contextLength: context, layers: layers, heads: heads, embeddingDim: channels,
                           ffnDim: ffn, norm: .layer, activation: activation, positions: .learned, tiedEmbeddings: tied,
                           bias: true, dropout: 0, normEpsilon: Float(epsilon))
    }

    // MARK: - LlamaForCausalLM

    private static func llama(_ reader: inout HuggingFaceConfigReader) throws -> ModelConfig {
        let width = HuggingFaceConfigReader.maximumWidth
        let vocab = try reader.integer("vocab_size", default: 32000, in: 1...Int(Int32.max))!
        let hidden = try reader.integer("hidden_size", default: 4096, in: 1...width)!
        let ffn = try reader.integer("intermediate_size", default: 11008, in: 1...width)!
        let layers = try reader.integer("num_hidden_layers", default: 32, in: 1...HuggingFaceConfigReader.maximumLayers)!
        let heads = try reader.integer("num_attention_heads", default: 32, in: 1...hidden)!
        // Grouped-query attention: each KV head serves a whole group of query heads (1: multi-query).
        let kvHeads = try reader.integer("num_key_value_heads", default: heads, in: 1...heads)!
        guard heads % kvHeads == 0 else {
            throw reader.fail("num_key_value_heads", "\(kvHeads) does not divide num_attention_heads \(heads)")
        }
        // head_dim may differ from hidden_size / num_attention_heads: the attention is then
        // num_attention_heads·head_dim wide between q_proj and o_proj. Without it heads split hidden_size.
        guard let headSize = try reader.integer("head_dim", in: 1...width) ?? (hidden % heads == 0 ? hidden / heads : nil)
        else {
            throw reader.fail("num_attention_heads", "\(heads) does not divide hidden_size \(hidden) (and no head_dim is given)")
        }
        guard headSize % 2 == 0 else {
            throw reader.fail("head_dim", "\(headSize) is odd: RoPE rotates pairs of a head's dimensions")
        }
        // The attention width, like every other width, stays within the bound that keeps products
        // of sizes from overflowing.
        guard heads * headSize <= HuggingFaceConfigReader.maximumWidth else {
            throw reader.fail("head_dim", "\(headSize) × num_attention_heads \(heads) is out of range "
                              + "(at most \(HuggingFaceConfigReader.maximumWidth))")
        }
        let context = try reader.integer("max_position_embeddings", default: 2048,
                                         in: 1...HuggingFaceConfigReader.maximumContext)!
        let epsilon = try reader.positiveNumber("rms_norm_eps", default: 1e-6)!
        let tied = try reader.bool("tie_word_embeddings", default: false)
        let act = try reader.string("hidden_act", default: "silu")!
        guard act == "silu" || act == "swish" else {
            throw reader.fail("hidden_act", "'\(act)' is not supported: the gated MLP is SwiGLU (silu)")
        }
        let attentionBias = try reader.bool("attention_bias", default: false)
        let mlpBias = try reader.bool("mlp_bias", default: false)
        guard attentionBias == mlpBias else {
            throw reader.fail("mlp_bias", "\(mlpBias) with attention_bias \(attentionBias) is not supported: "
                              + "biases are on every linear layer or on none")
        }
        let theta = try ropeTheta(&reader)
        try refuseSlidingWindows(&reader)
        try refuseGenericChanges(&reader)
        // nanotron's converter (SmolLM) marks its configs; transformers ignores rope_interleaved
        // and rotates halves, as this model does, so only that value is accepted.
        try reader.refuse("rope_interleaved", unless: .bool(false), why: "interleaved RoPE pairs are not implemented")
        // pretraining_tp > 1 splits the same matmuls into slices: the result is the same.
        reader.pass(["attention_dropout", "pretraining_tp", "is_llama_config"])
        return ModelConfig(vocabSize: vocab, contextLength: context, layers: layers, heads: heads, kvHeads: kvHeads,
                           headDim: headSize, embeddingDim: hidden, ffnDim: ffn, norm: .rms, activation: .swiglu, positions: .rope, tiedEmbeddings: tied,
                           bias: attentionBias, dropout: 0, normEpsilon: Float(epsilon), ropeTheta: Float(theta))
    }

    /// RoPE's base from transformers 5's rope_parameters or the older top-level rope_theta;
    /// any scaled variant (rope_type other than "default", a non-null rope_scaling) is refused.
    private static func ropeTheta(_ reader: inout HuggingFaceConfigReader) throws -> Double {
        var theta: Double?
        if let parameters = reader.take("rope_parameters") {
            guard let members = parameters.objectMembers else {
                throw reader.fail("rope_parameters", "must be an object, got \(HuggingFaceConfigReader.brief(parameters))")
            }
            // The type first: a scaled variant is refused as such, whatever its other keys are.
            if let type = parameters.member("rope_type"), type != .string("default") {
                throw reader.fail("rope_parameters.rope_type", "\(HuggingFaceConfigReader.brief(type)) is not supported: "
                                  + "only plain RoPE (rope_type \"default\" with rope_theta) is implemented")
            }
            for (key, value) in members where key != "rope_type" {
                guard key == "rope_theta" else {
                    throw reader.fail("rope_parameters.\(key)", "\(HuggingFaceConfigReader.brief(value)) is not supported: "
                                      + "only plain RoPE (rope_type \"default\" with rope_theta) is implemented")
                }
                theta = try HuggingFaceConfigReader.positiveNumber(value, "rope_parameters.rope_theta", reader)
            }
        }
        if let number = try reader.positiveNumber("rope_theta") {
            if let theta, theta != number {
                throw reader.fail("rope_theta", "\(number) differs from rope_parameters.rope_theta \(theta)")
            }
            theta = number
        }
        try reader.refuse("rope_scaling", unless: .null, why: "scaled RoPE (linear, dynamic, YaRN, llama3) is not implemented")
        return theta ?? 10_000
    }

    /// Sliding-window attention (Mistral-style fields on a Llama config) is not implemented.
    private static func refuseSlidingWindows(_ reader: inout HuggingFaceConfigReader) throws {
        try reader.refuse("sliding_window", unless: .null, why: "sliding-window attention is not implemented")
        try reader.refuse("use_sliding_window", unless: .bool(false), why: "sliding-window attention is not implemented")
        if let types = reader.take("layer_types"),
           types.arrayValue?.allSatisfy({ $0 == .string("full_attention") }) != true {
            throw reader.fail("layer_types", "\(HuggingFaceConfigReader.brief(types)) is not supported: every layer attends "
                              + "to the whole context (full_attention)")
        }
    }
}
