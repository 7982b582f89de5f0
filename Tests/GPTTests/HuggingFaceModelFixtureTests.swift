// The model fixtures are what the checkpoint importer will be built on, so they are verified here
// before anyone relies on them: config.json has the fields of its architecture, every safetensors
// header parses (shards through model.safetensors.index.json) with the expected dtype and the
// Hugging Face names and shapes the config implies, float32 files read fully with our reader, the
// stored logits fit the prompt and vocabulary, and our tokenizer turns the prompt into exactly
// the input_ids transformers' tokenizer gave.

import Foundation
import Testing
import TestSupport
import Tokenizers
@testable import GPT

@Suite struct HuggingFaceModelFixtureTests {
    struct Header {
        var dtype: String
        var shape: [Int]
    }

    /// A safetensors file's header (any dtype), checked as our reader checks F32 files: offsets
    /// tile the data section, and each tensor's byte length fits its dtype and shape.
    static func header(_ path: String) throws -> [String: Header] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let length = Int(data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        guard case let .object(members) = try JSONParser.parse(Array(data[8 ..< 8 + length])) else {
            throw HuggingFaceFixtures.FixtureError(description: "\(path): header is not an object")
        }
        var tensors: [String: Header] = [:]
        var spans: [(Int, Int)] = []
        for (name, value) in members where name != "__metadata__" {
            let dtype = try #require(value.member("dtype")?.stringValue)
            let shape = try #require(value.member("shape")?.arrayValue).compactMap(\.integerValue)
            let offsets = try #require(value.member("data_offsets")?.arrayValue).compactMap(\.integerValue)
            let width = try #require(["F32": 4, "F16": 2, "BF16": 2][dtype], "\(name): dtype \(dtype)")
            #expect(offsets.count == 2 && offsets[1] - offsets[0] == width * shape.reduce(1, *), "\(path): \(name)")
            spans.append((offsets[0], offsets[1]))
            tensors[name] = Header(dtype: dtype, shape: shape)
        }
        spans.sort { $0 < $1 }
        #expect(zip(spans, spans.dropFirst()).allSatisfy { $0.1 == $1.0 } && spans.first?.0 == 0, "\(path): offsets do not tile")
        #expect(spans.last?.1 == data.count - 8 - length, "\(path): data section length")
        return tensors
    }

    /// Tensor names and shapes a checkpoint of this config must hold (the importer's contract).
    static func expectedShapes(_ config: [String: Any]) throws -> [String: [Int]] {
        let vocab = config["vocab_size"] as! Int
        let tied = config["tie_word_embeddings"] as! Bool
        var shapes: [String: [Int]] = [:]
        if config["model_type"] as? String == "gpt2" {
            let channels = config["n_embd"] as! Int, ffn = config["n_inner"] as? Int ?? 4 * channels
            shapes["transformer.wte.weight"] = [vocab, channels]
            shapes["transformer.wpe.weight"] = [config["n_positions"] as! Int, channels]
            for name in ["transformer.ln_f.weight", "transformer.ln_f.bias"] { shapes[name] = [channels] }
            for layer in 0 ..< (config["n_layer"] as! Int) {
                let prefix = "transformer.h.\(layer)."
                for norm in ["ln_1", "ln_2"] { shapes[prefix + norm + ".weight"] = [channels]; shapes[prefix + norm + ".bias"] = [channels] }
                // Conv1D stores (in, out).
                for (name, inputs, outputs) in [("attn.c_attn", channels, 3 * channels), ("attn.c_proj", channels, channels),
                                                ("mlp.c_fc", channels, ffn), ("mlp.c_proj", ffn, channels)] {
                    shapes[prefix + name + ".weight"] = [inputs, outputs]
                    shapes[prefix + name + ".bias"] = [outputs]
                }
            }
        } else {
            let channels = config["hidden_size"] as! Int, ffn = config["intermediate_size"] as! Int
            let heads = config["num_attention_heads"] as! Int, kvHeads = config["num_key_value_heads"] as! Int
            let headSize = config["head_dim"] as? Int ?? channels / heads
            let attentionBias = config["attention_bias"] as! Bool, mlpBias = config["mlp_bias"] as! Bool
            shapes["model.embed_tokens.weight"] = [vocab, channels]
            shapes["model.norm.weight"] = [channels]
            for layer in 0 ..< (config["num_hidden_layers"] as! Int) {
                let prefix = "model.layers.\(layer)."
                for norm in ["input_layernorm", "post_attention_layernorm"] { shapes[prefix + norm + ".weight"] = [channels] }
                for (name, outputs, inputs, bias) in [("self_attn.q_proj", heads * headSize, channels, attentionBias),
                                                      ("self_attn.k_proj", kvHeads * headSize, channels, attentionBias),
                                                      ("self_attn.v_proj", kvHeads * headSize, channels, attentionBias),
                                                      ("self_attn.o_proj", channels, heads * headSize, attentionBias),
                                                      ("mlp.gate_proj", ffn, channels, mlpBias), ("mlp.up_proj", ffn, channels, mlpBias),
                                                      ("mlp.down_proj", channels, ffn, mlpBias)] {
                    shapes[prefix + name + ".weight"] = [outputs, inputs]
                    if bias { shapes[prefix + name + ".bias"] = [outputs] }
                }
            }
        }
        if !tied { shapes["lm_head.weight"] = [vocab, config["model_type"] as? String == "gpt2" ? config["n_embd"] as! Int : config["hidden_size"] as! Int] }
        return shapes
    }

    static let requiredKeys = [
        "gpt2": ["n_embd", "n_layer", "n_head", "n_positions", "n_inner", "activation_function", "layer_norm_epsilon",
                 "tie_word_embeddings", "vocab_size", "bos_token_id", "eos_token_id", "dtype"],
        "llama": ["hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                  "head_dim", "rms_norm_eps", "rope_parameters", "max_position_embeddings", "tie_word_embeddings",
                  "attention_bias", "mlp_bias", "hidden_act", "vocab_size", "bos_token_id", "eos_token_id", "dtype"],
    ]

    @Test(arguments: HuggingFaceFixtures.modelNames)
    func weightsAreWhatTheConfigSays(fixture: String) throws {
        let directory = HuggingFaceFixtures.modelDirectory(fixture)
        let config = try HuggingFaceFixtures.json(directory + "/config.json")
        let type = try #require(config["model_type"] as? String)
        for key in try #require(Self.requiredKeys[type]) { #expect(config.keys.contains(key), "\(fixture): config.json lacks \(key)") }
        let dtype = try #require(["float32": "F32", "float16": "F16", "bfloat16": "BF16"][config["dtype"] as! String])
        // One file, or shards listed by the index.
        var files = ["model.safetensors"]
        var index: [String: String]?
        if FileManager.default.fileExists(atPath: directory + "/model.safetensors.index.json") {
            index = try #require(try HuggingFaceFixtures.json(directory + "/model.safetensors.index.json")["weight_map"] as? [String: String])
            files = Set(index!.values).sorted()
            #expect(files.count > 1, "\(fixture): an index with one shard")
        }
        var tensors: [String: Header] = [:]
        for file in files {
            for (name, header) in try Self.header(directory + "/" + file) {
                #expect(tensors[name] == nil, "\(fixture): \(name) twice")
                #expect(index == nil || index![name] == file, "\(fixture): the index misplaces \(name)")
                tensors[name] = header
            }
            if dtype == "F32" { _ = try SafeTensors.read(directory + "/" + file) }  // our reader takes it whole
        }
        #expect(index == nil || Set(index!.keys) == Set(tensors.keys))
        #expect(tensors.values.allSatisfy { $0.dtype == dtype }, "\(fixture): not all \(dtype)")
        #expect(tensors.mapValues(\.shape) == (try Self.expectedShapes(config)), "\(fixture)")
    }

    @Test(arguments: HuggingFaceFixtures.modelNames)
    func oracleFitsThePromptAndTheTokenizer(fixture: String) throws {
        let directory = HuggingFaceFixtures.modelDirectory(fixture)
        let config = try HuggingFaceFixtures.json(directory + "/config.json")
        let expected = try HuggingFaceFixtures.json(directory + "/expected.json")
        let vocab = config["vocab_size"] as! Int
        let inputIDs = (expected["input_ids"] as! [Int]).map { Int32($0) }
        let logits = try #require(try SafeTensors.read(directory + "/expected-logits.safetensors").first { $0.name == "logits" })
        #expect(logits.shape == [inputIDs.count, vocab] && logits.values.allSatisfy(\.isFinite))
        let greedy = expected["greedy"] as! [String: Any]
        let ids = greedy["ids"] as! [Int]
        #expect(ids.starts(with: inputIDs.map(Int.init)) && ids.allSatisfy { $0 < vocab } && ids.count > inputIDs.count)

        let tokenizer = try TokenizerFile.load(from: directory + "/tokenizer.json")
        #expect(tokenizer.vocabularySize == vocab)
        #expect(try tokenizer.encode(expected["prompt"] as! String) == inputIDs, "\(fixture): prompt ids")
        let eos = config["eos_token_id"].flatMap { $0 as? [Int] ?? ($0 as? Int).map { [$0] } } ?? []
        #expect(tokenizer.sequenceBoundaries.endOfSequence == eos.map(Int32.init), "\(fixture): EOS")
    }
}
