// Importing config.json as transformers writes it: every field is mapped, passed as harmless, or
// refused in one line that names it. The refusals start from a fixture's config with one field
// changed; the mappings include configs as the Hub's GPT-2 and Llama 2 repositories publish them
// (older transformers: rope_theta at the top level, n_ctx, summary fields), and transformers'
// defaults for the fields a config leaves out.

import Foundation
import Testing
import TestSupport
@testable import GPT

@Suite struct HuggingFaceConfigTests {
    /// Reads `config` as a checkpoint's config.json.
    static func read(_ config: [String: Any]) throws -> ModelConfig {
        let directory = NSTemporaryDirectory() + "hf-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: directory + "/config.json"))
        return try Checkpoint.readConfig(from: directory)
    }

    static func fixtureConfig(_ name: String) throws -> [String: Any] {
        try HuggingFaceFixtures.json(HuggingFaceFixtures.modelDirectory(name) + "/config.json")
    }

    /// A fixture's config with `key` set to `value` (NSNull() for null; nil removes it).
    static func changed(_ fixture: String, _ key: String, _ value: Any?) throws -> [String: Any] {
        var config = try fixtureConfig(fixture)
        config[key] = value
        return config
    }

    /// (fixture, key, the key's new value as JSON or nil to remove it, the field named, a phrase of the reason).
    static let refusals: [(String, String, String?, String, String)] = [
        ("gpt2-tied-f32", "model_type", #""mistral""#, "model_type", "'mistral' is not supported"),
        ("gpt2-tied-f32", "architectures", #"["GPT2Model"]"#, "architectures", "language-model head"),
        ("gpt2-tied-f32", "activation_function", #""gelu""#, "activation_function", "exact, with erf"),
        ("gpt2-tied-f32", "activation_function", #""silu""#, "activation_function", "'silu' is not supported"),
        ("gpt2-tied-f32", "scale_attn_by_inverse_layer_idx", "true", "scale_attn_by_inverse_layer_idx", "not supported"),
        ("gpt2-tied-f32", "scale_attn_weights", "false", "scale_attn_weights", "1/sqrt(head size)"),
        ("gpt2-tied-f32", "add_cross_attention", "true", "add_cross_attention", "cross-attention"),
        ("gpt2-tied-f32", "n_ctx", "32", "n_ctx", "differs from n_positions 64"),
        ("gpt2-tied-f32", "n_layer", "0", "n_layer", "out of range"),
        ("gpt2-tied-f32", "n_head", #""four""#, "n_head", "must be an integer"),
        ("gpt2-tied-f32", "n_positions", "1e12", "n_positions", "out of range"),
        ("gpt2-tied-f32", "n_head", "3", "n_embd", "multiple of heads"),
        ("gpt2-tied-f32", "layer_norm_epsilon", "-1", "layer_norm_epsilon", "positive number"),
        ("gpt2-tied-f32", "quantization_config", #"{"quant_method": "gptq"}"#, "quantization_config", "quantized"),
        ("gpt2-tied-f32", "flash_rotary", "true", "flash_rotary", "refusing rather than ignoring"),
        ("llama-tied-f32", "rope_parameters", #"{"rope_type": "llama3", "rope_theta": 5e5, "factor": 8}"#,
         "rope_parameters.rope_type", "only plain RoPE"),
        ("llama-tied-f32", "rope_parameters", #"{"rope_type": "default", "rope_theta": 1e4, "partial_rotary_factor": 0.5}"#,
         "rope_parameters.partial_rotary_factor", "only plain RoPE"),
        ("llama-tied-f32", "rope_scaling", #"{"type": "linear", "factor": 2}"#, "rope_scaling", "scaled RoPE"),
        ("llama-tied-f32", "rope_theta", "5e5", "rope_theta", "differs from rope_parameters.rope_theta"),
        ("llama-tied-f32", "sliding_window", "4096", "sliding_window", "sliding-window attention"),
        ("llama-tied-f32", "use_sliding_window", "true", "use_sliding_window", "sliding-window attention"),
        ("llama-tied-f32", "layer_types", #"["full_attention", "sliding_attention"]"#, "layer_types", "full_attention"),
        ("llama-tied-f32", "hidden_act", #""gelu""#, "hidden_act", "SwiGLU"),
        ("llama-tied-f32", "attention_bias", "true", "mlp_bias", "every linear layer or on none"),
        ("llama-tied-f32", "head_dim", "7", "head_dim", "is odd"),
        ("llama-tied-f32", "head_dim", "1048576", "head_dim", "× num_attention_heads 4 is out of range"),
        ("llama-tied-f32", "num_key_value_heads", "8", "num_key_value_heads", "out of range"),
        ("llama-tied-f32", "num_key_value_heads", "3", "num_key_value_heads", "does not divide num_attention_heads 4"),
        ("llama-tied-f32", "auto_map", #"{"AutoModelForCausalLM": "modeling.Model"}"#, "auto_map", "custom code"),
        ("llama-tied-f32", "is_encoder_decoder", "true", "is_encoder_decoder", "decoder-only"),
        ("llama-tied-f32", "model_type", nil, "model_type", "is missing"),
    ]

    @Test(arguments: refusals)
    func unsupportedFieldsAreRefusedNamingThem(fixture: String, key: String, json: String?, field: String,
                                                phrase: String) throws {
        let value = try json.map { try JSONSerialization.jsonObject(with: Data($0.utf8), options: .fragmentsAllowed) }
        let error = try #require(throws: HuggingFaceConfigError.self) { try Self.read(Self.changed(fixture, key, value)) }
        #expect(error.field == field, "\(error)")
        #expect(error.description.contains(phrase) && !error.description.contains("\n"), "\(error)")
    }

    @Test func fixtureConfigsMapOntoTheModel() throws {
        let gpt2 = try Self.read(Self.fixtureConfig("gpt2-untied-f16"))
        #expect(gpt2 == ModelConfig(vocabSize: 512, contextLength: 64, layers: 2, heads: 2, embeddingDim: 32, ffnDim: 48,
                                    tiedEmbeddings: false, bias: true, dropout: 0, normEpsilon: 1e-6))
        let llama = try Self.read(Self.fixtureConfig("llama-tied-f32"))
        #expect(llama == ModelConfig(vocabSize: 879, contextLength: 64, layers: 2, heads: 4, embeddingDim: 32, ffnDim: 64,
                                     norm: .rms, activation: .swiglu, positions: .rope, tiedEmbeddings: true, bias: false,
                                     dropout: 0, normEpsilon: 1e-6, ropeTheta: 10_000))
        let gqa = try Self.read(Self.fixtureConfig("llama-gqa-bf16"))
        #expect(gqa.heads == 4 && gqa.kvHeads == 2 && gqa.headDim == 8 && gqa.ropeTheta == 500_000 && !gqa.tiedEmbeddings)
        // head_dim 16 with hidden_size 32 over 4 heads: attention 64 wide.
        let mqa = try Self.read(Self.fixtureConfig("llama-mqa-bias-sharded"))
        #expect(mqa.kvHeads == 1 && mqa.headDim == 16 && mqa.attentionWidth == 64 && mqa.embeddingDim == 32 && mqa.bias)
        #expect(try Self.read(Self.changed("gpt2-tied-f32", "activation_function", "relu")).activation == .relu)
        #expect(try Self.read(Self.changed("gpt2-tied-f32", "n_inner", NSNull())).ffnDim == 4 * 32)
    }

    /// Fields left out take transformers' defaults: GPT2Config ties the head, LlamaConfig does not.
    @Test func absentFieldsTakeTransformersDefaults() throws {
        let gpt2 = try Self.read(["model_type": "gpt2"])
        #expect(gpt2 == ModelConfig(vocabSize: 50257, contextLength: 1024, layers: 12, heads: 12, embeddingDim: 768,
                                    ffnDim: 3072, tiedEmbeddings: true, normEpsilon: 1e-5))
        let llama = try Self.read(["model_type": "llama"])
        #expect(llama == ModelConfig(vocabSize: 32000, contextLength: 2048, layers: 32, heads: 32, embeddingDim: 4096,
                                     ffnDim: 11008, norm: .rms, activation: .swiglu, positions: .rope, tiedEmbeddings: false,
                                     bias: false, normEpsilon: 1e-6, ropeTheta: 10_000))
        // Without head_dim the heads split hidden_size, so they must divide it.
        let error = try #require(throws: HuggingFaceConfigError.self) {
            try Self.read(["model_type": "llama", "hidden_size": 32, "num_attention_heads": 5, "num_key_value_heads": 5])
        }
        #expect(error.field == "num_attention_heads" && error.reason.contains("does not divide hidden_size 32"), "\(error)")
    }

    /// openai-community/gpt2's config.json as published (transformers 4 era).
    @Test func theHubsGPT2ConfigMaps() throws {
        let config: [String: Any] = [
            "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
            "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256, "initializer_range": 0.02,
            "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768, "n_head": 12,
            "n_layer": 12, "n_positions": 1024, "resid_pdrop": 0.1, "summary_activation": NSNull(),
            "summary_first_dropout": 0.1, "summary_proj_to_labels": true, "summary_type": "cls_index",
            "summary_use_proj": true, "task_specific_params": ["text-generation": ["do_sample": true, "max_length": 50]],
            "vocab_size": 50257,
        ]
        #expect(try Self.read(config) == ModelConfig.preset("gpt2-124m"))
    }

    /// A Llama 2 style config as transformers 4 wrote it: rope_theta at the top level, rope_scaling null.
    @Test func aTransformers4LlamaConfigMaps() throws {
        let config: [String: Any] = [
            "architectures": ["LlamaForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
            "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 11008, "max_position_embeddings": 4096,
            "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32,
            "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": NSNull(), "rope_theta": 10000.0,
            "tie_word_embeddings": false, "torch_dtype": "float16", "transformers_version": "4.31.0", "use_cache": true,
            "vocab_size": 32000,
        ]
        let llama = try Self.read(config)
        #expect(llama.layers == 32 && llama.contextLength == 4096 && llama.ropeTheta == 10_000 && !llama.tiedEmbeddings)
        #expect(llama.normEpsilon == 1e-5 && llama.positions == .rope && !llama.bias)
        var scaled = config
        scaled["rope_theta"] = 500_000.0
        #expect(try Self.read(scaled).ropeTheta == 500_000)
    }

    /// SmolLM2-135M's config.json as published (nanotron's converter adds is_llama_config and
    /// rope_interleaved): every field is known, grouped-query attention included.
    @Test func smolLMsConfigMaps() throws {
        var config: [String: Any] = [
            "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 0,
            "eos_token_id": 0, "hidden_act": "silu", "hidden_size": 576, "initializer_range": 0.041666666666666664,
            "intermediate_size": 1536, "is_llama_config": true, "max_position_embeddings": 8192, "mlp_bias": false,
            "model_type": "llama", "num_attention_heads": 9, "num_hidden_layers": 30, "num_key_value_heads": 3,
            "pad_token_id": NSNull(), "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_interleaved": false,
            "rope_scaling": NSNull(), "rope_theta": 100000, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
            "transformers_version": "4.42.3", "use_cache": true, "vocab_size": 49152,
        ]
        let mapped = try Self.read(config)
        #expect(mapped.layers == 30 && mapped.embeddingDim == 576 && mapped.ropeTheta == 100_000 && mapped.tiedEmbeddings)
        #expect(mapped.heads == 9 && mapped.kvHeads == 3 && mapped.headDim == 64)
        config["rope_interleaved"] = true
        #expect(throws: HuggingFaceConfigError.self) { try Self.read(config) }
    }

    @Test func duplicateKeysAreRefused() throws {
        let directory = NSTemporaryDirectory() + "hf-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try #"{"model_type": "gpt2", "n_layer": 2, "n_layer": 12}"#.write(toFile: directory + "/config.json", atomically: true,
                                                                           encoding: .utf8)
        let error = try #require(throws: HuggingFaceConfigError.self) { try Checkpoint.readConfig(from: directory) }
        #expect(error.field == "n_layer" && error.reason == "appears more than once")
    }
}
