// Grouped-query attention as a model feature: the `kvHeads` field (its JSON default and validation),
// the Llama layout's k/v projections, what the KV cache and the memory estimate hold, and the FLOP
// count. Gradients and cached-vs-full logits of GQA models run with every other variant
// (ModelTestSupport's GQA and MQA variants).

import Compute
import Foundation
import ReferenceBackend
import Testing
@testable import GPT

@Suite("Grouped-query attention")
struct GroupedQueryTests {
    /// 4 query heads of 4 over `kvHeads` KV heads, Llama style.
    static func llama(kvHeads: Int?) -> ModelConfig {
        ModelConfig(vocabSize: 13, contextLength: 8, layers: 2, heads: 4, kvHeads: kvHeads, embeddingDim: 16,
                    ffnDim: 24, norm: .rms, activation: .swiglu, positions: .rope, bias: true)
    }

    static func json(_ config: ModelConfig) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as? [String: Any])
    }

    @Test("kvHeads is written only when grouped and reads as heads when absent")
    func jsonDefault() throws {
        let ungrouped = Self.llama(kvHeads: nil), grouped = Self.llama(kvHeads: 2)
        #expect(ungrouped.kvHeads == 4 && ungrouped == Self.llama(kvHeads: 4))
        #expect(try Self.json(ungrouped)["kvHeads"] == nil)
        #expect(try Self.json(grouped)["kvHeads"] as? Int == 2)
        for config in [ungrouped, grouped] {
            #expect(try JSONDecoder().decode(ModelConfig.self, from: JSONEncoder().encode(config)) == config)
        }
        // A config written before kvHeads existed (no such key) is ungrouped.
        var old = try Self.json(grouped)
        old["kvHeads"] = nil
        let decoded = try JSONDecoder().decode(ModelConfig.self, from: JSONSerialization.data(withJSONObject: old))
        #expect(decoded.kvHeads == decoded.heads && decoded == ungrouped)
    }

    @Test("an ungrouped config keeps kvHeads equal to heads when heads changes; a grouped one keeps its KV heads")
    func followsHeads() {
        var config = Self.llama(kvHeads: nil)
        config.heads = 2
        #expect(config.kvHeads == 2 && config.qkvWidth == 3 * config.embeddingDim)
        var grouped = Self.llama(kvHeads: 2)
        grouped.heads = 8
        #expect(grouped.kvHeads == 2 && grouped.queriesPerKVHead == 4)
        grouped.kvHeads = 8
        #expect(grouped == { var c = Self.llama(kvHeads: nil); c.heads = 8; return c }())
    }

    @Test("kvHeads must divide heads, and grouping needs the Llama layout (RoPE)")
    func validation() throws {
        for bad in [3, 0, 8] {
            #expect(throws: ModelError.self, "kvHeads \(bad)") { try Self.llama(kvHeads: bad).validate() }
        }
        do {
            try Self.llama(kvHeads: 3).validate()
        } catch {
            #expect("\(error)".contains("kvHeads (3) must divide heads (4)"), "\(error)")
        }
        var gpt2 = Self.llama(kvHeads: 2)
        gpt2.positions = .learned
        do {
            try gpt2.validate()
            Issue.record("a grouped GPT-2 layout validated")
        } catch {
            #expect("\(error)".contains("needs rope positions") && !"\(error)".contains("\n"), "\(error)")
        }
        try Self.llama(kvHeads: 1).validate()
        try ModelConfig.preset("llama-char").validate()
    }

    @Test("k_proj and v_proj have KVH·hs rows; the fused qkv matrix is (NH + 2·KVH)·hs × C", arguments: [1, 2, 4])
    func layout(kvHeads: Int) throws {
        let config = Self.llama(kvHeads: kvHeads), layout = ParameterLayout(config)
        let (c, kv) = (config.embeddingDim, kvHeads * config.headDim)
        let prefix = "model.layers.1.self_attn."
        let q = try #require(layout.entry(named: prefix + "q_proj.weight"))
        let k = try #require(layout.entry(named: prefix + "k_proj.weight"))
        let v = try #require(layout.entry(named: prefix + "v_proj.weight"))
        #expect(q.shape == [c, c] && k.shape == [kv, c] && v.shape == [kv, c])
        #expect(layout.entry(named: prefix + "k_proj.bias")?.shape == [kv])
        #expect(k.offset == q.offset + q.count && v.offset == k.offset + k.count)
        #expect(q.count + k.count + v.count == config.qkvWidth * c)
    }

    @Test("the KV cache holds KV heads only, and the memory estimate counts it")
    func cacheMemory() throws {
        let grouped = Self.llama(kvHeads: 1), full = Self.llama(kvHeads: nil)
        // Per layer and position, 2·KVH·hs floats are cached instead of 2·NH·hs.
        let saved = grouped.layers * grouped.contextLength * 2 * (grouped.heads - grouped.kvHeads) * grouped.headDim
        #expect(try full.kvCacheFloatCount() - grouped.kvCacheFloatCount() == saved)
        let model = try GPTModel(config: grouped, backend: ReferenceBackend(), seed: 1)
        let cache = try model.makeKVCache()
        #expect(cache.keysValues.count == grouped.layers * grouped.contextLength * 2 * grouped.kvHeads * grouped.headDim)
        var settings = TrainingSettings()
        (settings.batchSize, settings.sampleInterval, settings.sampleTokens) = (2, 1, 8)
        let estimate = try MemoryEstimate.training(grouped, settings: settings)
        let sample = try #require(estimate.parts.last)
        #expect(sample.name.contains("KV cache"))
        #expect(sample.bytes == 4 * (try grouped.kvCacheFloatCount()) + 8 * MemoryEstimate.bytesPerGeneratedToken)
        #expect(estimate.summary.contains("KV cache"))
    }

    @Test("the activation estimate is what the model allocates", arguments: [1, 2, 4])
    func activationCount(kvHeads: Int) throws {
        let config = Self.llama(kvHeads: kvHeads)
        let backend = ReferenceBackend()
        let buffers = try ActivationBuffers(config: config, capacity: 6, backend: backend)
        let allocated = Mirror(reflecting: buffers).children.compactMap { ($0.value as? Buffer)?.count }.reduce(0, +)
        #expect(try config.activationFloatCount(tokens: 6) == allocated)
    }

    @Test("FLOP count: P is every matmul weight, with k and v of KVH heads", arguments: [1, 2, 4])
    func flops(kvHeads: Int) {
        let config = Self.llama(kvHeads: kvHeads), layout = ParameterLayout(config)
        let matrices = layout.entries.filter { $0.shape.count == 2 && $0.name != "model.embed_tokens.weight" }
        // The tied output head is the embedding: counted once, as V×C.
        let expected = matrices.reduce(0) { $0 + $1.count } + config.vocabSize * config.embeddingDim
        #expect(FlopCount(config: config).matmulParameters == expected)
        #expect(FlopCount(config: config).matmulShapes(rows: 4).first { $0.role == "qkv fwd" }?.n == config.qkvWidth)
    }
}
