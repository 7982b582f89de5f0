// Checkpoints: save then load gives bit-identical parameters and logits (GPT-2 and Llama names, tied
// and untied, with and without biases), HF names/shapes/config fields, clear refusals, and the
// tokenizer of every kind riding along.

import Compute
import Foundation
import ReferenceBackend
import Testing
@testable import GPT
import Tokenizers

@Suite struct CheckpointTests {
    static let variants: [(String, ModelConfig)] = [
        ("gpt2-tied", ModelConfig(vocabSize: 11, contextLength: 8, layers: 2, heads: 2, embeddingDim: 8, ffnDim: 16)),
        ("gpt2-untied-relu-sinusoidal-nobias",
         ModelConfig(vocabSize: 11, contextLength: 8, layers: 1, heads: 2, embeddingDim: 8, ffnDim: 12,
                     activation: .relu, positions: .sinusoidal, tiedEmbeddings: false, bias: false)),
        ("llama-tied", ModelConfig(vocabSize: 11, contextLength: 8, layers: 2, heads: 2, embeddingDim: 8, ffnDim: 12,
                                   norm: .rms, activation: .swiglu, positions: .rope, bias: false)),
        ("llama-untied-bias", ModelConfig(vocabSize: 11, contextLength: 8, layers: 1, heads: 2, embeddingDim: 8,
                                          ffnDim: 12, norm: .rms, activation: .swiglu, positions: .rope,
                                          tiedEmbeddings: false, bias: true)),
        ("llama-gqa-bias", ModelConfig(vocabSize: 11, contextLength: 8, layers: 2, heads: 4, kvHeads: 2,
                                       embeddingDim: 16, ffnDim: 12, norm: .rms, activation: .swiglu,
                                       positions: .rope, bias: true)),
    ]
    static let tokenizer = try! CharTokenizer(corpus: "abcdefghij\n")

    static func temporaryDirectory() -> String {
        NSTemporaryDirectory() + "checkpoint-\(UUID().uuidString)"
    }

    /// A trained-looking model: random init perturbed so no two tensors share values.
    static func model(_ config: ModelConfig, seed: UInt64 = 5) throws -> GPTModel {
        let model = try GPTModel(config: config, backend: ReferenceBackend(), seed: seed)
        var generator = SplitMix64(seed: seed)
        try model.loadParameterValues(try model.parameterValues().map { $0 + Float(generator.nextNormal() * 0.01) })
        return model
    }

    static func logits(_ model: GPTModel) throws -> [Float] {
        try model.forward(tokens: [1, 4, 2, 9, 0, 3, 10, 7, 5, 5], targets: nil, batch: 2, length: 5)
        return try model.allLogits()
    }

    @Test(arguments: variants)
    func saveThenLoadIsBitIdentical(name: String, config: ModelConfig) throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let original = try Self.model(config)
        try Checkpoint.save(original, tokenizer: Self.tokenizer, to: directory)
        let (loaded, tokenizer) = try Checkpoint.load(from: directory, backend: ReferenceBackend())
        #expect(loaded.config == config)
        #expect((tokenizer as? CharTokenizer) == Self.tokenizer)
        #expect(try loaded.parameterValues().map(\.bitPattern) == original.parameterValues().map(\.bitPattern))
        #expect(try Self.logits(loaded).map(\.bitPattern) == Self.logits(original).map(\.bitPattern))
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(files == [".gpt-manifest.json", "config.json", "model.safetensors", "tokenizer.json"])
    }

    @Test func huggingFaceNamesShapesAndConfig() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = Self.variants[1].1  // GPT-2 names, untied, no bias, relu
        let model = try Self.model(config)
        try Checkpoint.save(model, tokenizer: Self.tokenizer, to: directory)
        let tensors = try SafeTensors.read(directory + "/model.safetensors")
        let byName = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0) })
        // Conv1D weights are stored (in, out): c_attn is (C, 3C), transposed from our (3C, C).
        let attention = try #require(byName["transformer.h.0.attn.c_attn.weight"])
        #expect(attention.shape == [8, 24])
        let entry = try #require(model.layout.entry(named: "transformer.h.0.attn.c_attn.weight"))
        let ours = try model.parameterValues()
        #expect(attention.values[1 * 24 + 5] == ours[entry.offset + 5 * 8 + 1])  // HF[in=1, out=5] == ours[out=5, in=1]
        #expect(byName["lm_head.weight"]?.shape == [11, 8])
        #expect(byName["transformer.wpe.weight"]?.shape == [8, 8])
        #expect(byName["transformer.h.0.mlp.c_fc.bias"]?.values == Array(repeating: 0, count: 12))
        #expect(byName["transformer.ln_f.bias"]?.values == Array(repeating: 0, count: 8))

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/config.json"))) as? [String: Any]
        let hf = try #require(json)
        #expect(hf["model_type"] as? String == "gpt2")
        #expect(hf["architectures"] as? [String] == ["GPT2LMHeadModel"])
        #expect(hf["n_embd"] as? Int == 8 && hf["n_layer"] as? Int == 1 && hf["n_head"] as? Int == 2)
        #expect(hf["n_inner"] as? Int == 12 && hf["n_positions"] as? Int == 8 && hf["vocab_size"] as? Int == 11)
        #expect(hf["activation_function"] as? String == "relu")
        #expect(hf["tie_word_embeddings"] as? Bool == false)
        // A char tokenizer has no BOS/EOS: null, not GPT2Config's default 50256.
        #expect(hf["bos_token_id"] is NSNull && hf["eos_token_id"] is NSNull)
        #expect(hf["gpt"] is [String: Any])
    }

    @Test func llamaConfigFieldsAndTiedHeadOmitted() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Checkpoint.save(try Self.model(Self.variants[2].1), tokenizer: Self.tokenizer, to: directory)
        let names = try SafeTensors.read(directory + "/model.safetensors").map(\.name)
        #expect(names.contains("model.layers.1.self_attn.k_proj.weight") && names.contains("model.layers.0.mlp.gate_proj.weight"))
        #expect(!names.contains("lm_head.weight"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/config.json"))) as? [String: Any]
        let hf = try #require(json)
        #expect(hf["model_type"] as? String == "llama" && hf["architectures"] as? [String] == ["LlamaForCausalLM"])
        #expect(hf["hidden_size"] as? Int == 8 && hf["intermediate_size"] as? Int == 12)
        #expect(hf["num_attention_heads"] as? Int == 2 && hf["num_key_value_heads"] as? Int == 2)
        #expect(hf["hidden_act"] as? String == "silu" && hf["rope_theta"] as? Double == 10000)
        #expect(hf["attention_bias"] as? Bool == false && hf["tie_word_embeddings"] as? Bool == true)
        #expect((hf["gpt"] as? [String: Any])?["kvHeads"] == nil)
    }

    @Test func groupedQueryCheckpointWritesKeyValueHeads() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = Self.variants[4].1  // 4 query heads over 2 KV heads of 4
        try Checkpoint.save(try Self.model(config), tokenizer: Self.tokenizer, to: directory)
        let byName = Dictionary(uniqueKeysWithValues: try SafeTensors.read(directory + "/model.safetensors")
            .map { ($0.name, $0.shape) })
        #expect(byName["model.layers.1.self_attn.q_proj.weight"] == [16, 16])
        #expect(byName["model.layers.1.self_attn.k_proj.weight"] == [8, 16])
        #expect(byName["model.layers.1.self_attn.v_proj.bias"] == [8])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/config.json"))) as? [String: Any]
        let hf = try #require(json)
        #expect(hf["num_attention_heads"] as? Int == 4 && hf["num_key_value_heads"] as? Int == 2)
        #expect(hf["head_dim"] as? Int == 4)
        #expect((hf["gpt"] as? [String: Any])?["kvHeads"] as? Int == 2)
    }

    @Test func replacingKeepsOnlyTheNewCheckpointAndRefusesOthersFiles() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try Self.model(Self.variants[0].1, seed: 1), second = try Self.model(Self.variants[0].1, seed: 2)
        try Checkpoint.save(first, tokenizer: Self.tokenizer, to: directory)
        try Checkpoint.save(second, tokenizer: Self.tokenizer, to: directory + "/")
        let (loaded, _) = try Checkpoint.load(from: directory, backend: ReferenceBackend())
        #expect(try loaded.parameterValues() == second.parameterValues())
        let parent = (directory as NSString).deletingLastPathComponent, base = (directory as NSString).lastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).filter { $0.hasPrefix(base) } == [base])

        // A file of a checkpoint's name that no save wrote is someone else's: refused, untouched.
        let other = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: other) }
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try "not weights".write(toFile: other + "/model.safetensors", atomically: true, encoding: .utf8)
        #expect(throws: CheckpointError.self) { try Checkpoint.save(first, tokenizer: Self.tokenizer, to: other) }
        #expect(try String(contentsOfFile: other + "/model.safetensors", encoding: .utf8) == "not weights")
        #expect(try FileManager.default.contentsOfDirectory(atPath: other) == ["model.safetensors"])
    }

    /// Saves a valid checkpoint, lets `damage` break it, and returns the load error's message.
    func loadError(_ damage: (String) throws -> Void) throws -> String? {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Checkpoint.save(try Self.model(Self.variants[0].1), tokenizer: Self.tokenizer, to: directory)
        try damage(directory)
        do {
            _ = try Checkpoint.load(from: directory, backend: ReferenceBackend())
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func badFilesAreRefusedWithOneLine() throws {
        func rewrite(_ file: String, _ transform: @escaping (Data) -> Data) -> (String) throws -> Void {
            { directory in
                let url = URL(fileURLWithPath: directory + "/" + file)
                try transform(Data(contentsOf: url)).write(to: url)
            }
        }
        func replaceJSON(_ old: String, _ new: String) -> (String) throws -> Void {
            rewrite("config.json") { Data(String(decoding: $0, as: UTF8.self).replacingOccurrences(of: old, with: new).utf8) }
        }
        let cases: [(String, (String) throws -> Void, String)] = [
            ("truncated weights", rewrite("model.safetensors") { $0.prefix($0.count - 10) }, "truncated"),
            ("corrupted header length", rewrite("model.safetensors") { var d = $0; d[5] = 0x7F; return d }, "header length"),
            ("malformed config", rewrite("config.json") { $0.prefix(30) }, "config.json: invalid checkpoint: not valid JSON"),
            ("wrong-typed key", replaceJSON("\"layers\" : 2", "\"layers\" : \"two\""), "'gpt.layers' has the wrong type"),
            // Without "gpt" it is read as transformers' config, which has no such field.
            ("missing gpt key", replaceJSON("\"gpt\" :", "\"not_gpt\" :"), "field 'not_gpt': is not a GPT2LMHeadModel field"),
            ("shape mismatch", replaceJSON("\"embeddingDim\" : 8", "\"embeddingDim\" : 4"), "has shape"),
            ("invalid config", replaceJSON("\"heads\" : 2", "\"heads\" : 3"), "must be a positive multiple of heads"),
            ("vocabulary mismatch", replaceJSON("\"vocabSize\" : 11", "\"vocabSize\" : 12"), "tokenizer has 11 tokens"),
            ("missing tokenizer", { try FileManager.default.removeItem(atPath: $0 + "/tokenizer.json") }, "no such file"),
            ("missing weights", { try FileManager.default.removeItem(atPath: $0 + "/model.safetensors") }, "no such file"),
        ]
        for (name, damage, expected) in cases {
            let message = try loadError(damage)
            #expect(message?.contains(expected) == true, "\(name): \(message ?? "loaded")")
            #expect(message?.contains("\n") == false, "\(name)")
        }
        let missing = Self.temporaryDirectory()
        #expect(throws: CheckpointError(path: missing, reason: "no such checkpoint directory")) {
            try Checkpoint.load(from: missing, backend: ReferenceBackend())
        }
    }

    /// Issue 12, item 1: a config.json whose sizes imply far more parameters than the file holds
    /// is refused before the model (or its flat parameter array) is allocated.
    @Test(arguments: [("\"layers\" : 2", "\"layers\" : 100000"),
                      ("\"contextLength\" : 8", "\"contextLength\" : 1000000000000000")])
    func aConfigLargerThanItsWeightsIsRefusedBeforeAllocating(old: String, new: String) throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Checkpoint.save(try Self.model(Self.variants[0].1), tokenizer: Self.tokenizer, to: directory)
        let url = URL(fileURLWithPath: directory + "/config.json")
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.contains(old))
        try text.replacingOccurrences(of: old, with: new).write(to: url, atomically: true, encoding: .utf8)
        let backend = CountingBackend()
        var admitted = false
        #expect {
            _ = try Checkpoint.load(from: directory, backend: backend) { _ in admitted = true }
        } throws: { error in
            "\(error)".contains("model.safetensors: invalid checkpoint: holds ") && "\(error)".contains("parameters")
        }
        #expect(!admitted && backend.allocatedBytes == 0)
    }

    @Test func loadingAsksBeforeAllocatingTheModel() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Checkpoint.save(try Self.model(Self.variants[0].1), tokenizer: Self.tokenizer, to: directory)
        struct Refused: Error {}
        let backend = CountingBackend()
        #expect(throws: Refused.self) {
            _ = try Checkpoint.load(from: directory, backend: backend) { config in
                #expect(config == Self.variants[0].1)
                throw Refused()
            }
        }
        #expect(backend.allocatedBytes == 0)
    }

    /// A NaN or infinity in the weights (or in AdamW's moments, or a negative second moment) is
    /// refused when the checkpoint is read, naming the tensor and element.
    @Test func nonFiniteWeightsAreRefused() throws {
        let config = Self.variants[0].1
        let model = try Self.model(config)
        var tensors = Checkpoint.huggingFaceTensors(config: config, layout: model.layout, values: try model.parameterValues())
        tensors[1].values[3] = .nan
        #expect(throws: CheckpointError(path: "f", reason: "tensor '\(tensors[1].name)' holds nan at element 3")) {
            try Checkpoint.parameterValues(from: tensors, config: config, layout: model.layout, file: "f")
        }
    }

    @Test func nonZeroBiasForABiasFreeModelIsRefused() throws {
        let config = Self.variants[1].1
        let model = try Self.model(config)
        var tensors = Checkpoint.huggingFaceTensors(config: config, layout: model.layout, values: try model.parameterValues())
        let index = try #require(tensors.firstIndex { $0.name == "transformer.h.0.ln_1.bias" })
        tensors[index].values[3] = 0.5
        #expect(throws: CheckpointError.self) {
            try Checkpoint.parameterValues(from: tensors, config: config, layout: model.layout, file: "f")
        }
        tensors.remove(at: index)  // absent zero biases are fine: transformers would initialise them to 0
        tensors.append(NamedTensor(name: "transformer.extra", shape: [1], values: [0]))
        #expect(throws: CheckpointError(path: "f", reason: "unexpected tensor 'transformer.extra' (not part of the model that config.json describes)")) {
            try Checkpoint.parameterValues(from: tensors, config: config, layout: model.layout, file: "f")
        }
    }

    @Test(arguments: ["bpe", "word"])
    func checkpointsCarryTheirTokenizer(kind: String) throws {
        let corpus = String(repeating: "To be, or not to be, that is the question.\n", count: 10)
        let tokenizer: any Tokenizer = kind == "bpe" ? try BPETrainer.train(text: corpus, vocabularySize: 300)
            : try WordTokenizer(corpus: corpus)
        let config = ModelConfig(vocabSize: tokenizer.vocabularySize, contextLength: 8, layers: 1, heads: 2,
                                 embeddingDim: 8, ffnDim: 16)
        let directory = NSTemporaryDirectory() + "checkpoint-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Checkpoint.save(try GPTModel(config: config, backend: ReferenceBackend(), seed: 1), tokenizer: tokenizer, to: directory)
        let (_, loaded) = try Checkpoint.load(from: directory, backend: ReferenceBackend())
        #expect(loaded.kind == kind)
        #expect(try loaded.encode(corpus) == tokenizer.encode(corpus))
    }
}
