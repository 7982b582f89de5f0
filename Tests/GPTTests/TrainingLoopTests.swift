// The training loop in process: a run stopped half way and resumed equals the uninterrupted run bit
// for bit (log, weights, state), evaluations come at evalInterval and at maxSteps and keep the best
// model, checkpoints and samples come when due, the interrupt hook ends with a resumable
// checkpoint, and a resume that would not continue the saved run is refused.

import Compute
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GPT
import ReferenceBackend
import Testing
import TestSupport
import Tokenizers

@Suite struct TrainingLoopTests {
    static let text = String(repeating: "ROMEO:\nlove is light, and night is sweet.\n\nJULIET:\nmy love.\n\n", count: 12)

    /// A tiny run with dropout and gradient accumulation on, so both random streams are part of
    /// what resuming must restore.
    static func run(steps: Int = 12) throws -> RunConfig {
        let model = ModelConfig(vocabSize: 1, contextLength: 8, layers: 1, heads: 2, embeddingDim: 16, ffnDim: 32,
                                dropout: 0.1)
        var training = TrainingSettings()
        (training.maxSteps, training.batchSize, training.gradientAccumulation) = (steps, 2, 2)
        (training.learningRate, training.warmupSteps, training.evalInterval, training.evalBatches) = (1e-2, 2, 4, 1)
        return RunConfig(model: model, training: training)
    }

    static func corpus() throws -> TrainingCorpus { try TrainingCorpus(text: text, contextLength: 8) }

    static func scratch(_ name: String) -> String { NSTemporaryDirectory() + "loop-\(name)-\(UUID().uuidString)" }

    /// The log's step and loss columns (the timing columns differ between runs).
    static func lossColumns(_ directory: String) throws -> [String] {
        try String(contentsOfFile: directory + "/" + TrainingLoop.logFileName, encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).prefix(5).joined(separator: ",") }
    }

    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    @Test func aResumedRunEqualsTheUninterruptedOneBitForBit() throws {
        let straight = Self.scratch("straight"), split = Self.scratch("split")
        defer { for path in [straight, split] { try? FileManager.default.removeItem(atPath: path) } }
        let full = try TrainingLoop(run: try Self.run(), corpus: try Self.corpus(), backend: ReferenceBackend())
        #expect(try full.train(output: TrainingOutput(directory: straight)).lastStep == 12)

        let first = try TrainingLoop(run: try Self.run(), corpus: try Self.corpus(), backend: ReferenceBackend())
        let half = try first.train(output: TrainingOutput(directory: split, stopAfter: 5))
        #expect(half.steps == 5 && half.lastStep == 5 && !half.interrupted)
        #expect(Checkpoint.isResumable(split))

        let saved = try RunConfig.load(path: split + "/" + Checkpoint.runConfigFileName)
        let rest = try TrainingLoop(resuming: split, run: saved, corpus: try Self.corpus(), backend: ReferenceBackend())
        #expect(rest.state.step == 5 && rest.state.batchesConsumed == 10)
        let summary = try rest.train(output: TrainingOutput(directory: split))
        #expect(summary.steps == 7 && summary.lastStep == 12)

        #expect(try Self.lossColumns(split) == Self.lossColumns(straight))
        #expect(try Self.lossColumns(straight).count == 13)
        #expect(try Self.bytes(split + "/model.safetensors") == Self.bytes(straight + "/model.safetensors"))
        #expect(try Self.bytes(split + "/optimizer.safetensors") == Self.bytes(straight + "/optimizer.safetensors"))
        #expect(rest.state.bestValidationLoss == full.state.bestValidationLoss)
    }

    @Test func evaluationsComeAtTheIntervalAndTheLastStepAndKeepTheBestModel() throws {
        let directory = Self.scratch("evaluate")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var training = try Self.run(steps: 10)
        training.training.evalInterval = 4
        let loop = try TrainingLoop(run: training, corpus: try Self.corpus(), backend: ReferenceBackend())
        var evaluations: [TrainingEvaluation] = []
        var hooks = TrainingHooks()
        hooks.evaluation = { evaluations.append($0) }
        let summary = try loop.train(output: TrainingOutput(directory: directory), hooks: hooks)

        #expect(evaluations.map(\.step) == [4, 8, 10])
        #expect(evaluations.allSatisfy { $0.trainLoss.isFinite && $0.validationLoss.isFinite })
        let best = try #require(evaluations.map(\.validationLoss).min())
        #expect(loop.state.bestValidationLoss == best)
        #expect(evaluations.first?.isBest == true)
        #expect(evaluations.filter(\.isBest).last?.validationLoss == best)
        #expect(summary.finalValidationLoss == evaluations.last?.validationLoss)
        let logged = try TrainingLog.parse(try String(contentsOfFile: directory + "/log.csv", encoding: .utf8))
        #expect(logged.compactMap(\.validationLoss) == evaluations.map(\.validationLoss))

        // best/ holds the best model: its validation loss, evaluated afresh, is the best one.
        let (model, _) = try Checkpoint.load(from: directory + "/best", backend: ReferenceBackend())
        let trainer = try Trainer(model: model, settings: loop.run.training)
        let batches = try loop.corpus.dataset.validationBatches(batchSize: 2, count: 1).map { ($0.tokens, $0.targets) }
        #expect(try trainer.evaluate(batches, batch: 2, length: 8) == best)
    }

    @Test func checkpointsAndSamplesComeWhenDue() throws {
        let directory = Self.scratch("checkpoints")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var run = try Self.run(steps: 9)
        (run.training.checkpointInterval, run.training.sampleInterval) = (3, 4)
        (run.training.samplePrompt, run.training.sampleTokens) = ("ROMEO:", 5)
        let loop = try TrainingLoop(run: run, corpus: try Self.corpus(), backend: ReferenceBackend())
        var checkpoints: [String] = [], samples: [Int] = []
        var hooks = TrainingHooks()
        hooks.checkpoint = { step, reason, _ in checkpoints.append("\(step) \(reason)") }
        hooks.sample = { step, text in
            #expect(text.hasPrefix("ROMEO:"))
            samples.append(step)
        }
        _ = try loop.train(output: TrainingOutput(directory: directory), hooks: hooks)
        #expect(checkpoints == ["3 interval(3)", "6 interval(3)", "9 final"])
        #expect(samples == [4, 8])
        let written = try String(contentsOfFile: directory + "/samples.txt", encoding: .utf8)
        #expect(written.hasPrefix("=== step 4 ===\nROMEO:") && written.contains("=== step 8 ===\nROMEO:"))
    }

    @Test func theInterruptHookEndsWithAResumableCheckpoint() throws {
        let directory = Self.scratch("interrupt")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let loop = try TrainingLoop(run: try Self.run(), corpus: try Self.corpus(), backend: ReferenceBackend())
        var steps = 0, reasons: [CheckpointReason] = []
        var hooks = TrainingHooks()
        hooks.step = { steps = $0.step }
        hooks.checkpoint = { _, reason, _ in reasons.append(reason) }
        hooks.interrupt = { steps == 3 }
        let summary = try loop.train(output: TrainingOutput(directory: directory), hooks: hooks)
        #expect(summary.interrupted && summary.lastStep == 3 && summary.steps == 3)
        #expect(reasons == [.interrupted])
        let point = try Checkpoint.loadTraining(from: directory, backend: ReferenceBackend())
        #expect(point.state.step == 3 && point.state.batchesConsumed == 6)
    }

    @Test func aResumeThatWouldNotContinueTheSavedRunIsRefused() throws {
        let directory = Self.scratch("refuse")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let loop = try TrainingLoop(run: try Self.run(steps: 4), corpus: try Self.corpus(), backend: ReferenceBackend())
        _ = try loop.train(output: TrainingOutput(directory: directory))
        let saved = try RunConfig.load(path: directory + "/" + Checkpoint.runConfigFileName)
        func resume(_ run: RunConfig, corpus: TrainingCorpus? = nil) throws {
            _ = try TrainingLoop(resuming: directory, run: run, corpus: try corpus ?? Self.corpus(), backend: ReferenceBackend())
        }
        #expect(throws: TrainingError.alreadyFinished(checkpoint: directory, step: 4, maxSteps: 4)) { try resume(saved) }
        var changed = saved
        changed.training.maxSteps = 8
        changed.training.learningRate = 0.5
        #expect(throws: TrainingError.changedOnResume(key: "learningRate")) { try resume(changed) }
        var longer = saved
        (longer.training.maxSteps, longer.training.backend) = (8, "reference")
        try resume(longer)  // steps, backend and device may change
        let other = try TrainingCorpus(text: Self.text + "XYZ", contextLength: 8, name: "other")
        #expect(throws: TrainingError.self) { try resume(longer, corpus: other) }
        #expect(throws: TrainingError.stopsBeforeStart(stopAfter: 2, step: 4)) {
            _ = try TrainingLoop(resuming: directory, run: longer, corpus: try Self.corpus(), backend: ReferenceBackend())
                .train(output: TrainingOutput(directory: directory, stopAfter: 2))
        }
    }

    /// Issue 12, item 14: the checkpoint records its data; a resume on other text with the same
    /// characters is refused unless allowed, and then the new data is recorded.
    @Test func aResumeOnDifferentDataIsRefusedUnlessAllowed() throws {
        let directory = Self.scratch("fingerprint")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let corpus = try Self.corpus()
        let loop = try TrainingLoop(run: try Self.run(), corpus: corpus, backend: ReferenceBackend())
        _ = try loop.train(output: TrainingOutput(directory: directory, stopAfter: 2))
        #expect(try Checkpoint.readTrainingState(from: directory).data == corpus.fingerprint)
        let saved = try RunConfig.load(path: directory + "/" + Checkpoint.runConfigFileName)
        let shuffled = try TrainingCorpus(text: String(Self.text.reversed()), contextLength: 8, name: "reversed")
        #expect(shuffled.tokenizer.vocabularySize == corpus.tokenizer.vocabularySize)
        #expect(throws: TrainingError.dataChanged(corpus: "reversed", trainedOn: corpus.fingerprint!,
                                                  given: shuffled.fingerprint!)) {
            _ = try TrainingLoop(resuming: directory, run: saved, corpus: shuffled, backend: ReferenceBackend())
        }
        let allowed = try TrainingLoop(resuming: directory, run: saved, corpus: shuffled, backend: ReferenceBackend(),
                                       allowingDifferentData: true)
        #expect(allowed.state.data == shuffled.fingerprint)
    }

    /// Issue 12, item 4: a token file truncated while the run reads it ends the run with the
    /// file's error, after a resumable checkpoint of the last completed step.
    @Test func aTruncatedTokenFileSavesTheRunBeforeFailing() throws {
        let text = RandomText.temporaryPath("loop-text") + ".txt", prepared = Self.scratch("prepared")
        let directory = Self.scratch("truncated")
        defer { for path in [text, prepared, directory] { try? FileManager.default.removeItem(atPath: path) } }
        try String(repeating: Self.text, count: 20).write(toFile: text, atomically: true, encoding: .utf8)
        try DataPreparation.prepare(PreparationOptions(inputs: [text], tokenizerKind: "char", outputDirectory: prepared))
        let corpus = try TrainingCorpus.load(path: prepared, contextLength: 8)
        let loop = try TrainingLoop(run: try Self.run(), corpus: corpus, backend: ReferenceBackend())
        var reasons: [CheckpointReason] = []
        var hooks = TrainingHooks()
        hooks.step = { report in
            if report.step == 2 { _ = truncate(prepared + "/" + PreparedMetadata.trainFileName, 6) }
        }
        hooks.checkpoint = { _, reason, _ in reasons.append(reason) }
        #expect(throws: TokenFileError.self) { _ = try loop.train(output: TrainingOutput(directory: directory), hooks: hooks) }
        #expect(reasons == [.stoppedByError])
        let point = try Checkpoint.loadTraining(from: directory, backend: ReferenceBackend())
        #expect(point.state.step == 2 && point.state.batchesConsumed == 4)
        #expect(try Self.lossColumns(directory).count == 3)  // header and steps 1, 2
    }

    /// A sample (or log row) that cannot be written mid-run stops the run after saving the step
    /// it finished, instead of going on without it.
    @Test func aWriteThatFailsMidRunSavesTheStepBeforeFailing() throws {
        let directory = Self.scratch("write-fails")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var run = try Self.run()
        (run.training.sampleInterval, run.training.sampleTokens, run.training.samplePrompt) = (2, 3, "ROMEO")
        let loop = try TrainingLoop(run: run, corpus: try Self.corpus(), backend: ReferenceBackend())
        var reasons: [CheckpointReason] = []
        var hooks = TrainingHooks()
        hooks.sample = { step, _ in  // the samples file becomes unwritable after the first sample
            let samples = directory + "/" + TrainingLoop.samplesFileName
            if step == 2 { _ = try? FileManager.default.removeItem(atPath: samples); _ = mkdir(samples, 0o755) }
        }
        hooks.checkpoint = { _, reason, _ in reasons.append(reason) }
        #expect(throws: TrainingLogError.self) { _ = try loop.train(output: TrainingOutput(directory: directory), hooks: hooks) }
        #expect(reasons == [.stoppedByError])
        #expect(try Checkpoint.readTrainingState(from: directory).step == 4)
    }

    /// Issue 12, item 3: a state file whose batch count the run could not have drawn (resuming
    /// would skip 10^15 batches: an endless skip) or whose time is not a number is refused.
    @Test(arguments: [("\"batchesConsumed\" : 6", "\"batchesConsumed\" : 1000000000000000", "batchesConsumed"),
                      ("\"step\" : 3", "\"step\" : 4000000000", "step must be in"),
                      ("\"elapsedSeconds\" : ", "\"elapsedSeconds\" : -1, \"x\" : ", "elapsedSeconds")])
    func aStateFileOutOfRangeIsRefused(old: String, new: String, expected: String) throws {
        let directory = Self.scratch("state")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let loop = try TrainingLoop(run: try Self.run(), corpus: try Self.corpus(), backend: ReferenceBackend())
        _ = try loop.train(output: TrainingOutput(directory: directory, stopAfter: 3))
        let path = directory + "/" + TrainingState.fileName
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(old))
        try text.replacingOccurrences(of: old, with: new).write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            _ = try Checkpoint.loadTraining(from: directory, backend: ReferenceBackend())
        } throws: { error in
            "\(error)".contains(TrainingState.fileName) && "\(error)".contains(expected)
        }
    }

    /// A NaN in AdamW's moments (or a negative second moment) is refused when resuming: it would
    /// turn the parameters it updates into NaN.
    @Test(arguments: [("exp_avg", Float.nan), ("exp_avg_sq", -1)])
    func aMomentThatIsNotANumberIsRefused(name: String, value: Float) throws {
        let directory = Self.scratch("moments")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let loop = try TrainingLoop(run: try Self.run(), corpus: try Self.corpus(), backend: ReferenceBackend())
        _ = try loop.train(output: TrainingOutput(directory: directory, stopAfter: 2))
        let path = directory + "/" + Checkpoint.optimizerFileName
        var tensors = try SafeTensors.read(path)
        let index = try #require(tensors.firstIndex { $0.name == name })
        tensors[index].values[7] = value
        try SafeTensors.write(tensors, to: path)
        #expect {
            _ = try Checkpoint.loadTraining(from: directory, backend: ReferenceBackend())
        } throws: { error in
            "\(error)" == "\(path): invalid checkpoint: '\(name)' holds \(value) at element 7"
        }
    }

    /// Issue 12, item 3: generating a huge number of tokens reserves nothing up front.
    @Test func aHugeTokenCountIsNotReservedUpFront() throws {
        let loop = try TrainingLoop(run: try Self.run(), corpus: try Self.corpus(), backend: ReferenceBackend())
        struct Enough: Error {}
        for cached in [true, false] {
            var sampler = try Sampler(temperature: 0, seed: 1)
            var count = 0
            #expect(throws: Enough.self) {
                try Generator(model: loop.model, useKVCache: cached).generate(prompt: [1], maxTokens: Int.max,
                                                                              sampler: &sampler) { _ in
                    count += 1
                    if count == 3 { throw Enough() }
                }
            }
        }
    }

    @Test func anOutputDirectoryHoldingSomeoneElsesCheckpointNamesIsRefusedBeforeTraining() throws {
        let directory = Self.scratch("occupied")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "{}".write(toFile: directory + "/tokenizer.json", atomically: true, encoding: .utf8)  // a prepared data directory's
        let loop = try TrainingLoop(run: try Self.run(), corpus: try Self.corpus(), backend: ReferenceBackend())
        #expect(throws: TrainingError.outputIsNotACheckpoint(path: directory)) {
            _ = try loop.train(output: TrainingOutput(directory: directory))
        }
        #expect(loop.state.step == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["tokenizer.json"])
    }
}
