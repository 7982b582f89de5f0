// Pieces of exact resume: skipping batches lands where drawing them would, and a training
// checkpoint restores AdamW so the next step equals the uninterrupted run's.

import Compute
import Foundation
import Testing
@testable import GPT
import ReferenceBackend
import Tokenizers

@Suite struct ResumeTests {
    @Test(arguments: [0, 1, 7])
    func skippingBatchesEqualsDrawingThem(count: Int) throws {
        let dataset = try TextDataset(tokens: (0..<500).map { Int32($0 % 37) }, contextLength: 8)
        var drawn = dataset.trainingBatches(batchSize: 3, seed: 99)
        for _ in 0..<count { _ = try drawn.next() }
        var skipped = dataset.trainingBatches(batchSize: 3, seed: 99)
        skipped.skip(batches: count)
        for _ in 0..<4 { #expect(try skipped.next() == drawn.next()) }
    }

    @Test func trainingCheckpointRestoresTheNextStepExactly() throws {
        var config = try ModelConfig.preset("char-baby")
        (config.vocabSize, config.contextLength, config.layers, config.embeddingDim, config.heads, config.ffnDim) = (11, 8, 1, 16, 2, 32)
        let tokenizer = try CharTokenizer(corpus: "abcdefghijk")
        let dataset = try TextDataset(tokens: (0..<400).map { Int32(($0 * 7) % 11) }, contextLength: 8)
        var settings = TrainingSettings()
        (settings.batchSize, settings.maxSteps, settings.warmupSteps) = (2, 6, 1)
        func train(_ trainer: Trainer, _ batches: inout RandomBatches, steps: Int) throws -> [Float] {
            try (0..<steps).map { _ in
                let batch = try batches.next()
                return try trainer.trainStep(tokens: batch.tokens, targets: batch.targets, batch: 2, length: 8).loss
            }
        }
        let straight = try Trainer(model: GPTModel(config: config, backend: ReferenceBackend(), seed: 3), settings: settings)
        var straightBatches = dataset.trainingBatches(batchSize: 2, seed: 5)
        let expected = try train(straight, &straightBatches, steps: 6)

        let first = try Trainer(model: GPTModel(config: config, backend: ReferenceBackend(), seed: 3), settings: settings)
        var firstBatches = dataset.trainingBatches(batchSize: 2, seed: 5)
        let head = try train(first, &firstBatches, steps: 3)
        let directory = NSTemporaryDirectory() + "resume-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = TrainingState(step: 3, batchesConsumed: 3, bestValidationLoss: nil, elapsedSeconds: 1)
        try Checkpoint.save(first.model, tokenizer: tokenizer, to: directory,
                            extraFiles: try Checkpoint.trainingFiles(trainer: first, run: RunConfig(model: config, training: settings),
                                                                     state: state))
        #expect(Checkpoint.isResumable(directory))

        let point = try Checkpoint.loadTraining(from: directory, backend: ReferenceBackend())
        #expect(point.state == state && point.run.training == settings)
        let resumed = try Trainer(model: point.model, settings: settings)
        try resumed.optimizer.restore(step: point.state.step, firstMoment: point.firstMoment, secondMoment: point.secondMoment)
        var resumedBatches = dataset.trainingBatches(batchSize: 2, seed: 5)
        resumedBatches.skip(batches: point.state.batchesConsumed)
        let tail = try train(resumed, &resumedBatches, steps: 3)
        #expect(head + tail == expected)
        #expect(try resumed.model.parameterValues() == straight.model.parameterValues())
    }

    @Test func loadingAModelOnlyCheckpointForResumeIsRefused() throws {
        var config = try ModelConfig.preset("char-baby")
        (config.vocabSize, config.contextLength, config.layers, config.embeddingDim, config.heads, config.ffnDim) = (3, 4, 1, 8, 2, 16)
        let directory = NSTemporaryDirectory() + "model-only-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Checkpoint.save(try GPTModel(config: config, backend: ReferenceBackend(), seed: 1),
                            tokenizer: try CharTokenizer(corpus: "abc"), to: directory)
        #expect(!Checkpoint.isResumable(directory))
        #expect(throws: CheckpointError.self) { try Checkpoint.loadTraining(from: directory, backend: ReferenceBackend()) }
    }
}
