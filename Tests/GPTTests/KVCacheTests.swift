// The KV cache: incremental logits equal a full forward over the same prefix, for every variant;
// greedy generation with and without the cache agrees while the context is not full.

import Compute
import GPT
import ReferenceBackend
import Testing

@Suite("KV cache")
struct KVCacheTests {
    @Test("cached logits equal the full forward's, token by token", arguments: Variant.all)
    func cachedEqualsFull(variant: Variant) throws {
        let model = try GPTModel(config: variant.config, backend: ReferenceBackend(), seed: 9)
        let tokens = randomBatch(vocab: variant.config.vocabSize, batch: 1, length: 6, seed: 4).tokens
        let cache = try model.makeKVCache()
        // A 3-token prefill, then one token at a time up to the full context.
        var fed = 3
        var cached = try model.forwardCached(tokens: Array(tokens[0..<3]), cache: cache)
        while true {
            try model.forward(tokens: Array(tokens[0..<fed]), targets: nil, batch: 1, length: fed)
            let full = try model.logits(row: fed - 1)
            let worst = zip(cached, full).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-5, "\(variant.name): position \(fed - 1) differs by \(worst)")
            guard fed < tokens.count else { break }
            cached = try model.forwardCached(tokens: [tokens[fed]], cache: cache)
            fed += 1
        }
        #expect(cache.length == 6)
        #expect(throws: ModelError.self) { try model.forwardCached(tokens: [0], cache: cache) }
        cache.reset()
        #expect(throws: ModelError.tokenOutOfRange(token: 99, vocabSize: variant.config.vocabSize)) {
            try model.forwardCached(tokens: [99], cache: cache)
        }
    }

    @Test("greedy generation is the same with and without the cache inside the context")
    func generationAgrees() throws {
        let config = Variant.all[2].config
        let model = try GPTModel(config: config, backend: ReferenceBackend(), seed: 5)
        func greedy(cache: Bool, count: Int) throws -> [Int32] {
            var sampler = try Sampler(temperature: 0, seed: 1)
            return try Generator(model: model, useKVCache: cache).generate(prompt: [1, 2], maxTokens: count,
                                                                          sampler: &sampler)
        }
        #expect(try greedy(cache: true, count: 4) == (try greedy(cache: false, count: 4)))
        // Past the context the cache slides by refilling half a window: still one token per step.
        #expect(try greedy(cache: true, count: 20).count == 20)
    }
}
