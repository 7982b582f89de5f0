// Sizes from configs and the memory estimates built from them: the formulas equal what the model
// really allocates, sizes that overflow 64 bits are refused as config errors, and a run or a
// checkpoint too large for its budget is refused before a single buffer is allocated.

import Compute
import Foundation
import GPT
import ReferenceBackend
import Testing
import Tokenizers

@Suite struct MemoryEstimateTests {
    static let configs = Variant.all.map(\.config) + ModelConfig.presetNames.map { try! ModelConfig.preset($0) }

    @Test(arguments: configs)
    func parameterCountIsTheLayoutsCount(config: ModelConfig) throws {
        #expect(try config.parameterCount() == ParameterLayout(config).count)
    }

    @Test(arguments: Variant.all)
    func activationAndKVCacheCountsAreWhatTheModelAllocates(variant: Variant) throws {
        let config = variant.config, backend = CountingBackend()
        let model = try GPTModel(config: config, backend: backend, seed: 1)
        let parameters = backend.allocatedBytes
        #expect(parameters == 2 * 4 * (try config.parameterCount()))  // parameters and gradients
        let (batch, length) = (3, config.contextLength)
        let data = randomBatch(vocab: config.vocabSize, batch: batch, length: length, seed: 2)
        _ = try model.forward(tokens: data.tokens, targets: data.targets, batch: batch, length: length)
        #expect(backend.allocatedBytes - parameters == 4 * (try config.activationFloatCount(tokens: batch * length)))
        let beforeCache = backend.allocatedBytes
        _ = try model.makeKVCache()
        #expect(backend.allocatedBytes - beforeCache == 4 * (try config.kvCacheFloatCount()))
    }

    @Test(arguments: [
        ("embeddingDim", ModelConfig(vocabSize: 65, contextLength: 64, layers: 4, heads: 4, embeddingDim: 1 << 40, ffnDim: 512)),
        ("contextLength", ModelConfig(vocabSize: 65, contextLength: 1 << 60, layers: 4, heads: 4, embeddingDim: 128, ffnDim: 512)),
        ("layers", ModelConfig(vocabSize: 65, contextLength: 64, layers: Int.max / 2, heads: 4, embeddingDim: 128, ffnDim: 512)),
    ])
    func sizesThatOverflowAreConfigErrors(field: String, config: ModelConfig) throws {
        #expect {
            try config.validate()
        } throws: { error in
            "\(error)".hasPrefix("invalid model config: ") && "\(error)".contains("too large to compute")
        }
        #expect(throws: SizeOverflow.self) { try MemoryEstimate.training(config, settings: TrainingSettings()) }
    }

    @Test func trainingEstimateCountsEveryBufferAndTheHostBatches() throws {
        let config = Variant.all[0].config
        var settings = TrainingSettings()
        (settings.batchSize, settings.gradientAccumulation, settings.evalBatches) = (3, 2, 5)
        let estimate = try MemoryEstimate.training(config, settings: settings)
        let p = try config.parameterCount(), tokens = 3 * config.contextLength
        #expect(estimate.parts.map(\.name) == ["parameters", "gradients", "AdamW moments",
                                              "activations for 3 x \(config.contextLength) tokens", "token batches"])
        #expect(estimate.parts.map(\.bytes) == [4 * p, 4 * p, 8 * p, 4 * (try config.activationFloatCount(tokens: tokens)),
                                               4 * 2 * tokens * (2 + 2 * 5)])
        #expect(estimate.totalBytes == estimate.parts.reduce(0) { $0 + $1.bytes })
        #expect(estimate.summary.hasPrefix("memory estimate: ") && estimate.summary.contains("AdamW moments"))
    }

    /// A data-parallel rank holds its rows of the batch and, with ZeRO-1, its shard of AdamW.
    @Test(arguments: [1, 2, 3])
    func aRanksEstimateIsItsShareOfTheBatchAndOfAdamW(ranks: Int) throws {
        let config = Variant.all[5].config  // grouped-query attention
        var settings = TrainingSettings()
        (settings.batchSize, settings.gradientAccumulation, settings.evalBatches) = (6, 1, 1)
        let p = try config.parameterCount(), rows = 6 / ranks, t = config.contextLength
        for shards in Set([1, ranks]) {
            let estimate = try MemoryEstimate.training(config, settings: settings, ranks: ranks, optimizerShards: shards)
            let moments = try #require(estimate.parts.first { $0.name.hasPrefix("AdamW moments") })
            #expect(moments.bytes == 8 * ((p + shards - 1) / shards), "ranks \(ranks), shards \(shards)")
            #expect(moments.name.contains("ZeRO-1") == (shards > 1))
            let activations = try #require(estimate.parts.first { $0.name.hasPrefix("activations") })
            #expect(activations.bytes == 4 * (try config.activationFloatCount(tokens: rows * t)))
            #expect(activations.name == "activations for \(rows) x \(t) tokens")
        }
    }

    @Test func aRunAboveItsBudgetIsRefusedBeforeAnythingIsAllocated() throws {
        // 1000 layers of char-baby: about 2.4 GB of parameters and moments.
        var run = RunConfig(model: try ModelConfig.preset("char-baby"))
        run.model.layers = 1000
        let corpus = try TrainingCorpus(text: String(repeating: "to be or not to be\n", count: 60), contextLength: 64)
        for backend in [CountingBackend(memoryCapacity: 1 << 30), CountingBackend()] {
            let limit: Int? = backend.memoryCapacity == nil ? 1 << 20 : nil
            #expect {
                _ = try TrainingLoop(run: run, corpus: corpus, backend: backend, memoryLimit: limit)
            } throws: { error in
                guard let refusal = error as? MemoryError else { return false }
                return refusal.budget.holder == (limit == nil ? "counting (\(backend.deviceDescription))" : "--memory-limit")
                    && refusal.needed > 2_000_000_000
            }
            #expect(backend.allocatedBytes == 0)
        }
    }

    @Test func hostBudgetHonoursTheAddressSpaceLimit() throws {
        let host = try #require(MemoryBudget.hostBytes())
        var physical = Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
        physical = max(physical, 1)
        #expect(host > 0 && host <= physical)
        let budget = try #require(MemoryBudget.of(ReferenceBackend()))
        #expect(budget.bytes == host && budget.holder.hasPrefix("reference ("))
        #expect(MemoryBudget.of(ReferenceBackend(), limit: 123) == MemoryBudget(bytes: 123, holder: "--memory-limit"))
    }
}
