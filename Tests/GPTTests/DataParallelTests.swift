// Data parallelism in process, ranks on threads (ThreadGroup): two ranks at global batch B train
// the run one process trains at batch B (per-step losses and the checkpoint agree to float
// rounding, with dropout and gradient accumulation on, with and without ZeRO-1), only rank 0
// writes, a checkpoint of either resumes under the other, and the pieces hold: buckets cover every
// trainable gradient once and become ready in backward order, a sharded AdamW updates its ranges
// as the whole one does.

import Compute
import Distributed
import Foundation
@testable import GPT
import ReferenceBackend
import Synchronization
import Testing

@Suite struct DataParallelTests {
    static let text = String(repeating: "ROMEO:\nlove is light, and night is sweet.\n\nJULIET:\nmy love.\n\n", count: 12)

    /// Two layers, dropout and gradient accumulation on, a global batch of 4. No biases: a key
    /// projection's bias has a zero gradient in exact arithmetic (softmax ignores a shift shared by
    /// all keys), so its AdamW update is rounding noise scaled up to the learning rate, which no two
    /// summation orders share.
    static func run(steps: Int = 8) -> RunConfig {
        let model = ModelConfig(vocabSize: 1, contextLength: 8, layers: 2, heads: 2, embeddingDim: 16, ffnDim: 32,
                                bias: false, dropout: 0.1)
        var training = TrainingSettings()
        (training.maxSteps, training.batchSize, training.gradientAccumulation) = (steps, 4, 2)
        (training.learningRate, training.warmupSteps, training.evalInterval, training.evalBatches) = (1e-2, 2, 4, 2)
        return RunConfig(model: model, training: training)
    }

    static func scratch(_ name: String) -> String { NSTemporaryDirectory() + "parallel-\(name)-\(UUID().uuidString)" }

    /// Per-step losses and evaluations of one rank's (or the single process's) session.
    struct Outcome: Sendable {
        var losses: [Float] = []
        var validationLosses: [Float] = []
    }

    /// Trains `run` in `directory` on `ranks` ranks (1: a plain single process); rank order.
    static func train(_ run: RunConfig, ranks: Int, zero: Bool = false, directory: String,
                      resuming: String? = nil, stopAfter: Int? = nil) throws -> [Outcome] {
        let body: @Sendable (Int, (any Communicator)?) throws -> Outcome = { rank, communicator in
            let corpus = try TrainingCorpus(text: text, contextLength: 8)
            // 1 KiB buckets: several per step, so the overlap path is exercised.
            let parallelism = communicator.map {
                DataParallelism(communicator: $0, shardsOptimizerState: zero, bucketBytes: 1024)
            } ?? .singleProcess
            let loop = try resuming.map {
                try TrainingLoop(resuming: $0, run: try RunConfig.load(path: $0 + "/run.json").withMaxSteps(run),
                                 corpus: corpus, backend: ReferenceBackend(), parallelism: parallelism)
            } ?? TrainingLoop(run: run, corpus: corpus, backend: ReferenceBackend(), parallelism: parallelism)
            var outcome = Outcome()
            var hooks = TrainingHooks()
            hooks.step = { outcome.losses.append($0.stats.loss) }
            hooks.evaluation = { outcome.validationLosses.append($0.validationLoss) }
            // Only rank 0 may write: the others get a directory that must stay absent.
            let output = rank == 0 ? directory : directory + "-rank\(rank)"
            _ = try loop.train(output: TrainingOutput(directory: output, stopAfter: stopAfter), hooks: hooks)
            return outcome
        }
        guard ranks > 1 else { return [try body(0, nil)] }
        let group = ThreadGroup(size: ranks)
        return try group.run { rank in try body(rank, group.communicator(rank: rank)) }
    }

    static func tensors(_ path: String) throws -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: try SafeTensors.read(path).map { ($0.name, $0.values) })
    }

    /// Largest |a - b| / max(|b|, 1e-3) over the pairs.
    static func largestRelativeDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) / max(abs($1), 1e-3) }.max() ?? 0
    }

    /// Every tensor of two checkpoints' `file` within `tolerance` of each other.
    static func expectCheckpointsAgree(_ path: String, _ reference: String, file: String, tolerance: Float,
                                       _ context: String) throws {
        let mine = try tensors(path + "/" + file), theirs = try tensors(reference + "/" + file)
        #expect(Set(mine.keys) == Set(theirs.keys), "\(context): \(file) holds other tensors")
        for (name, values) in theirs {
            let difference = zip(mine[name] ?? [], values).map { abs($0 - $1) }.max() ?? .infinity
            #expect(difference <= tolerance, "\(context): \(file) \(name) differs by \(difference)")
        }
    }

    @Test("two ranks at global batch B train what one process trains at B", arguments: [false, true])
    func twoRanksEqualOneProcess(zero: Bool) throws {
        let single = Self.scratch("single"), parallel = Self.scratch("parallel")
        defer { for path in [single, parallel] { try? FileManager.default.removeItem(atPath: path) } }
        let expected = try Self.train(Self.run(), ranks: 1, directory: single)[0]
        let ranks = try Self.train(Self.run(), ranks: 2, zero: zero, directory: parallel)
        let context = "2 ranks\(zero ? ", ZeRO-1" : "") vs 1 process"

        #expect(expected.losses.count == 8 && ranks[0].losses.count == 8, "\(context): steps")
        #expect(ranks[0].losses == ranks[1].losses, "\(context): the ranks report different losses")
        let difference = Self.largestRelativeDifference(ranks[0].losses, expected.losses)
        #expect(difference <= 1e-5, "\(context): per-step losses differ by \(difference) relative")
        #expect(Self.largestRelativeDifference(ranks[0].validationLosses, expected.validationLosses) <= 1e-5,
                "\(context): validation losses \(ranks[0].validationLosses) vs \(expected.validationLosses)")
        try Self.expectCheckpointsAgree(parallel, single, file: "model.safetensors", tolerance: 1e-5, context)
        try Self.expectCheckpointsAgree(parallel, single, file: "optimizer.safetensors", tolerance: 1e-6, context)
        #expect(!FileManager.default.fileExists(atPath: parallel + "-rank1"), "\(context): rank 1 wrote files")
    }

    @Test("a two-rank ZeRO-1 checkpoint resumes in one process, and a one-process one on two ranks")
    func checkpointsResumeUnderAnyRankCount() throws {
        let straight = Self.scratch("straight"), fromTwo = Self.scratch("from-two"), fromOne = Self.scratch("from-one")
        defer { for path in [straight, fromTwo, fromOne] { try? FileManager.default.removeItem(atPath: path) } }
        let expected = try Self.train(Self.run(), ranks: 1, directory: straight)[0]

        _ = try Self.train(Self.run(), ranks: 2, zero: true, directory: fromTwo, stopAfter: 4)
        let restInOne = try Self.train(Self.run(), ranks: 1, directory: fromTwo, resuming: fromTwo)[0]
        _ = try Self.train(Self.run(), ranks: 1, directory: fromOne, stopAfter: 4)
        let restOnTwo = try Self.train(Self.run(), ranks: 2, zero: true, directory: fromOne, resuming: fromOne)[0]

        for (name, rest, directory) in [("2 ranks then 1", restInOne, fromTwo), ("1 then 2 ranks", restOnTwo, fromOne)] {
            #expect(rest.losses.count == 4, "\(name): resumed steps")
            let difference = Self.largestRelativeDifference(rest.losses, Array(expected.losses.suffix(4)))
            #expect(difference <= 1e-5, "\(name): resumed losses differ by \(difference) relative")
            try Self.expectCheckpointsAgree(directory, straight, file: "model.safetensors", tolerance: 1e-5, name)
        }
    }

    @Test func aGlobalBatchTheRanksCannotSplitIsRefused() throws {
        let group = ThreadGroup(size: 3)
        let corpus = try TrainingCorpus(text: Self.text, contextLength: 8)
        #expect(throws: TrainingError.batchNotDivisible(batch: 4, ranks: 3)) {
            _ = try TrainingLoop(run: Self.run(), corpus: corpus, backend: ReferenceBackend(),
                                 parallelism: DataParallelism(communicator: group.communicator(rank: 0)))
        }
    }

    @Test("buckets cover every trainable gradient once, in the order backward finishes them",
          arguments: [ModelConfig.Positions.learned, .rope], [true, false])
    func bucketsCoverTheGradients(positions: ModelConfig.Positions, tied: Bool) throws {
        var config = ModelConfig(vocabSize: 11, contextLength: 8, layers: 3, heads: 2, embeddingDim: 16, ffnDim: 32)
        (config.positions, config.tiedEmbeddings) = (positions, tied)
        let model = try GPTModel(config: config, backend: ReferenceBackend(), seed: 1)
        let context = "positions \(positions), tied \(tied)"
        var covered = [Int](repeating: 0, count: model.layout.count)
        for bucketBytes in [4, 3000, 1 << 30] {
            let buckets = GradientBuckets.plan(model, bucketBytes: bucketBytes)
            covered = [Int](repeating: 0, count: model.layout.count)
            for bucket in buckets { for range in bucket.ranges { for i in range { covered[i] += 1 } } }
            for entry in model.layout.entries {
                let counts = Set(covered[entry.offset..<(entry.offset + entry.count)])
                #expect(counts == [entry.trainable ? 1 : 0], "\(context), \(bucketBytes) B buckets: \(entry.name)")
            }
            let order = model.backwardStages
            let ready = buckets.map { order.firstIndex(of: $0.readyAfter)! }
            #expect(ready == ready.sorted() && ready.last == order.count - 1, "\(context): buckets out of order")
            #expect(buckets.allSatisfy { $0.ranges.count <= 2 }, "\(context): a bucket is scattered over the buffer")
            if bucketBytes == 4 { #expect(buckets.count == order.count, "\(context): one bucket per stage") }
        }
        // Every gradient of a bucket is final when backward reports its stage.
        var reported: [BackwardStage] = []
        _ = try model.forward(tokens: [Int32](repeating: 1, count: 8), targets: [Int32](repeating: 2, count: 8),
                              batch: 1, length: 8)
        try model.backward(stageFinished: { reported.append($0) })
        #expect(reported == model.backwardStages, "\(context): backward reported \(reported)")
    }

    @Test func aShardedAdamWUpdatesItsRangesAsTheWholeOneDoes() throws {
        let config = ModelConfig(vocabSize: 11, contextLength: 8, layers: 2, heads: 2, embeddingDim: 16, ffnDim: 32)
        let backend = ReferenceBackend()
        let whole = try GPTModel(config: config, backend: backend, seed: 5)
        let shard = try GPTModel(config: config, backend: backend, seed: 5)
        var generator = SplitMix64(seed: 9)
        let gradients = (0..<whole.layout.count).map { _ in Float(generator.nextNormal()) }
        try backend.upload(gradients, to: whole.gradients.all)
        try backend.upload(gradients, to: shard.gradients.all)
        let count = whole.layout.count, owned = [100..<900, (count / 2)..<count]
        let hyper = TrainingSettings().adamW
        let full = try AdamW(layout: whole.layout, backend: backend, hyperparameters: hyper)
        let part = try AdamW(layout: shard.layout, backend: backend, hyperparameters: hyper, owned: owned)
        for _ in 0..<3 {
            try full.update(parameters: whole.parameters, gradients: whole.gradients, learningRate: 0.01, gradientScale: 0.5)
            try part.update(parameters: shard.parameters, gradients: shard.gradients, learningRate: 0.01, gradientScale: 0.5)
        }
        let expected = try whole.parameterValues(), actual = try shard.parameterValues()
        let initial = try GPTModel(config: config, backend: backend, seed: 5).parameterValues()
        for range in owned { #expect(Array(actual[range]) == Array(expected[range]), "owned \(range) differs") }
        #expect(Array(actual[900..<(count / 2)]) == Array(initial[900..<(count / 2)]), "a range it does not own moved")
        #expect(part.firstMoment.count == owned.reduce(0) { $0 + $1.count })
    }
}

extension RunConfig {
    /// This run with `other`'s maxSteps (what a resume may change).
    fileprivate func withMaxSteps(_ other: RunConfig) -> RunConfig {
        var copy = self
        copy.training.maxSteps = other.training.maxSteps
        return copy
    }
}
