// Heads wider (or narrower) than C / NH, as Llama's head_dim allows: the `headDim` field (its JSON
// default and validation), the q_proj and o_proj shapes, what the activations, the KV cache and the
// FLOP count hold, and a checkpoint's round trip. Gradients and cached-vs-full logits run with
// every other variant (ModelTestSupport's head_dim variant); the imported fixture
// llama-mqa-bias-sharded (head_dim 16 in a 32-wide model) checks the logits against transformers.

import Compute
import Foundation
import ReferenceBackend
import Testing
import Tokenizers
@testable import GPT

@Suite("Head size other than C / NH")
struct HeadDimTests {
    /// 4 heads of `headDim` over 2 KV heads in a 16-wide model.
    static func llama(headDim: Int?) -> ModelConfig {
        ModelConfig(vocabSize: 13, contextLength: 8, layers: 2, heads: 4, kvHeads: 2, headDim: headDim, embeddingDim: 16,
                    ffnDim: 24, norm: .rms, activation: .swiglu, positions: .rope, bias: true)
    }

    static func json(_ config: ModelConfig) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as? [String: Any])
    }

    @Test("headDim is written only when it is not C / NH, and reads as C / NH when absent")
    func json() throws {
        let even = Self.llama(headDim: nil), wide = Self.llama(headDim: 6)
        #expect(even.headDim == 4 && even == Self.llama(headDim: 4) && even.attentionWidth == 16)
        #expect(try Self.json(even)["headDim"] == nil)
        #expect(try Self.json(wide)["headDim"] as? Int == 6 && wide.attentionWidth == 24)
        #expect(try JSONDecoder().decode(ModelConfig.self, from: JSONEncoder().encode(wide)) == wide)
        #expect(ModelConfig.jsonKeys.contains("headDim"))
        // A head size that becomes C / NH when C changes is no longer written.
        var widened = wide
        widened.embeddingDim = 24
        #expect(widened.headDim == 6 && widened == { var c = even; c.embeddingDim = 24; return c }())
        #expect(try Self.json(widened)["headDim"] == nil)
    }

    @Test("an explicit headDim lifts the multiple-of-heads rule but needs RoPE and an even size")
    func validation() throws {
        var odd = Self.llama(headDim: 6)
        odd.embeddingDim = 18  // not a multiple of 4 heads: fine with headDim given
        try odd.validate()
        var gpt2 = Self.llama(headDim: 6)
        gpt2.positions = .learned
        gpt2.kvHeads = gpt2.heads
        let error = try #require(throws: ModelError.self) { try gpt2.validate() }
        #expect("\(error)".contains("headDim (6) other than embeddingDim / heads needs rope"), "\(error)")
        #expect(throws: ModelError.self) { try Self.llama(headDim: 5).validate() }
    }

    @Test("q_proj is (NH·hs, C), k_proj and v_proj (KVH·hs, C), o_proj (C, NH·hs)")
    func layout() throws {
        let config = Self.llama(headDim: 6), layout = ParameterLayout(config)
        func shape(_ name: String) -> [Int]? { layout.entry(named: "model.layers.0.self_attn." + name)?.shape }
        #expect(shape("q_proj.weight") == [24, 16] && shape("q_proj.bias") == [24])
        #expect(shape("k_proj.weight") == [12, 16] && shape("v_proj.weight") == [12, 16])
        #expect(shape("o_proj.weight") == [16, 24] && shape("o_proj.bias") == [16])
    }

    @Test("activations, the KV cache and the FLOP count are sized by the attention width", arguments: [nil, 2, 6])
    func sizes(headDim: Int?) throws {
        let config = Self.llama(headDim: headDim), backend = ReferenceBackend()
        let buffers = try ActivationBuffers(config: config, capacity: 6, backend: backend)
        let allocated = Mirror(reflecting: buffers).children.compactMap { ($0.value as? Buffer)?.count }.reduce(0, +)
        #expect(try config.activationFloatCount(tokens: 6) == allocated)
        #expect(try config.parameterCount() == ParameterLayout(config).count)

        let model = try GPTModel(config: config, backend: backend, seed: 1)
        let cache = try model.makeKVCache()
        let cacheFloats = Mirror(reflecting: cache).children.compactMap { ($0.value as? Buffer)?.count }.reduce(0, +)
        #expect(try config.kvCacheFloatCount() == cacheFloats)

        let layout = ParameterLayout(config)
        let matrices = layout.entries.filter { $0.shape.count == 2 && $0.name != "model.embed_tokens.weight" }
        let expected = matrices.reduce(0) { $0 + $1.count } + config.vocabSize * config.embeddingDim
        #expect(FlopCount(config: config).matmulParameters == expected)
        #expect(FlopCount(config: config).attentionFlopsPerToken(length: 8) == Double(6 * 2 * 8 * config.attentionWidth))
    }

    @Test("a checkpoint keeps headDim: config.json's head_dim, and the same logits after loading")
    func checkpointRoundTrip() throws {
        let backend = ReferenceBackend()
        let tokenizer = try CharTokenizer(corpus: "abcdefghijklm")
        var config = Self.llama(headDim: 6)
        config.vocabSize = tokenizer.vocabularySize
        let model = try GPTModel(config: config, backend: backend, seed: 3)
        let directory = NSTemporaryDirectory() + "gpt-headdim-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Checkpoint.save(model, tokenizer: tokenizer, to: directory)
        let written = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: directory + "/config.json"))) as? [String: Any])
        #expect(written["head_dim"] as? Int == 6 && written["num_key_value_heads"] as? Int == 2)
        let (loaded, _) = try Checkpoint.load(from: directory, backend: backend)
        #expect(loaded.config == config)
        let tokens: [Int32] = [1, 4, 2, 7]
        try model.forward(tokens: tokens, targets: nil, batch: 1, length: 4)
        try loaded.forward(tokens: tokens, targets: nil, batch: 1, length: 4)
        #expect(try model.allLogits() == loaded.allLogits())
    }
}
