// Generation ends at an end-of-sequence token: the stop token closes the returned ids (as in
// transformers' output) but is not streamed as text, on both the KV-cache and the recompute path.

import Compute
import GPT
import ReferenceBackend
import Testing

@Suite struct GeneratorStopTests {
    static func greedy(_ model: GPTModel, cache: Bool, stop: Set<Int32>, count: Int) throws -> (ids: [Int32], streamed: [Int32]) {
        var sampler = try Sampler(temperature: 0, seed: 1)
        var streamed: [Int32] = []
        let ids = try Generator(model: model, useKVCache: cache, stopTokens: stop)
            .generate(prompt: [1, 2], maxTokens: count, sampler: &sampler) { streamed.append($0) }
        return (ids, streamed)
    }

    @Test(arguments: [true, false])
    func stopsAtTheFirstStopToken(cache: Bool) throws {
        let model = try GPTModel(config: Variant.all[2].config, backend: ReferenceBackend(), seed: 5)
        let free = try Self.greedy(model, cache: cache, stop: [], count: 12)
        #expect(free.ids.count == 12 && free.streamed == free.ids)
        // Stop at the token generated third (its first occurrence may be earlier: cut there).
        let stop = free.ids[2]
        let end = free.ids.firstIndex(of: stop)!
        let stopped = try Self.greedy(model, cache: cache, stop: [stop, 9999], count: 12)
        #expect(stopped.ids == Array(free.ids[...end]))
        #expect(stopped.streamed == Array(free.ids[..<end]))
        // A stop token that never comes changes nothing.
        let absent = (0..<Int32(model.config.vocabSize)).first { !free.ids.contains($0) }!
        #expect(try Self.greedy(model, cache: cache, stop: [absent], count: 12).ids == free.ids)
    }
}
