// The training loop as a library: build a model or resume a training checkpoint, then per step
// draw K micro-batches, take one optimizer step, log a CSV row, evaluate every evalInterval steps
// (and at maxSteps) keeping the lowest-validation-loss model in best/, sample text every
// sampleInterval steps (KV cache, temperature 0.8, ending early at the tokenizer's end-of-sequence
// tokens, appended to samples.txt), and checkpoint every
// checkpointInterval steps, at the end, and when the interrupt hook asks. It prints nothing: the
// hooks (TrainingHooks.swift) tell the caller what happened.
//
// Output layout: the directory is a resumable checkpoint (model files + run.json,
// optimizer.safetensors, training_state.json); best/ holds the model with the lowest validation
// loss so far (model files + run.json, for generation). log.csv, samples.txt and best/ are carried
// into every new checkpoint that replaces the directory. Resuming re-seeds the batch stream and
// skips the batches already drawn, and dropout masks come from (seed, step), so on a CPU backend a
// resumed curve is bit-identical to an uninterrupted one.
//
// Data-parallel (`distribute`), every rank runs the loop with the same run and its part of each
// batch (DataParallelism.swift); only rank 0 writes, and the hooks that report a sample or a
// checkpoint are called on rank 0 only. The checkpoint is the single-process one (ZeRO-1 shards
// are gathered first), so it resumes under any number of ranks that divides the batch.

import Compute
import FoundationEssentials
import Tokenizers

/// A training run, fresh or resumed, ready to `train`.
public final class TrainingLoop {
    /// The CSV log in the output directory (unless `TrainingOutput.logPath` says otherwise).
    public static let logFileName = "log.csv"
    /// The text samples, appended to as they are made.
    public static let samplesFileName = "samples.txt"
    /// The model with the lowest validation loss so far.
    public static let bestDirectoryName = "best"
    /// Entries of the output directory that live beside the checkpoint and survive its replacement.
    public static let companions = [logFileName, samplesFileName, bestDirectoryName]

    /// The effective run: the model's vocabulary is the corpus tokenizer's, and a training dropout
    /// overrides the model's. Saved as run.json in every checkpoint.
    public let run: RunConfig
    /// What the run trains on.
    public let corpus: TrainingCorpus
    /// The model being trained (its parameters change as it trains).
    public let model: GPTModel
    /// The tokenizer checkpoints carry (the resumed checkpoint's, which equals the corpus').
    public let tokenizer: any Tokenizer
    /// Where the run stands: step, batches drawn, best validation loss, elapsed time.
    public private(set) var state: TrainingState
    /// The checkpoint this run resumed, if it did.
    public let resumedFrom: String?
    /// AdamW's moments from the resumed checkpoint, restored when the trainer is made.
    private let savedMoments: (first: [Float], second: [Float])?
    private var trainer: Trainer?
    /// The ranks this run trains with (one process unless `distribute` said otherwise).
    public private(set) var parallelism = DataParallelism.singleProcess

    /// A fresh run of `run` on `corpus`: parameters initialised from the training seed.
    public init(run: RunConfig, corpus: TrainingCorpus, backend: any Backend) throws {
        var effective = run
        effective.model.vocabSize = corpus.tokenizer.vocabularySize
        if let dropout = run.training.dropout { effective.model.dropout = dropout }
        try effective.training.validate()
        self.run = effective
        self.corpus = corpus
        model = try GPTModel(config: effective.model, backend: backend, seed: effective.training.seed)
        tokenizer = corpus.tokenizer
        state = TrainingState(step: 0, batchesConsumed: 0, bestValidationLoss: nil, elapsedSeconds: 0)
        resumedFrom = nil
        savedMoments = nil
    }

    /// Continues the training checkpoint in `directory` exactly: its parameters, AdamW moments,
    /// step and data position. `run` is the checkpoint's run.json, where only maxSteps, backend
    /// and device may differ; `corpus` must be tokenized as the run's was.
    public init(resuming directory: String, run: RunConfig, corpus: TrainingCorpus, backend: any Backend) throws {
        let point = try Checkpoint.loadTraining(from: directory, backend: backend)
        try Self.checkResumable(point, directory: directory, run: run, corpus: corpus)
        self.run = run
        self.corpus = corpus
        model = point.model
        tokenizer = point.tokenizer
        state = point.state
        resumedFrom = Checkpoint.normalized(directory)
        savedMoments = (point.firstMoment, point.secondMoment)
    }

    private static func checkResumable(_ point: ResumePoint, directory: String, run: RunConfig,
                                       corpus: TrainingCorpus) throws {
        try run.training.validate()
        var unchanged = run.training
        (unchanged.maxSteps, unchanged.backend, unchanged.device) =
            (point.run.training.maxSteps, point.run.training.backend, point.run.training.device)
        if run.model != point.run.model { throw TrainingError.changedOnResume(key: "model") }
        if unchanged != point.run.training {
            // The stored properties are the run config's keys; name the first that differs.
            let key = zip(Mirror(reflecting: unchanged).children, Mirror(reflecting: point.run.training).children)
                .first { "\($0.value)" != "\($1.value)" }?.0.label
            throw TrainingError.changedOnResume(key: key ?? "settings")
        }
        let data = corpus.tokenizer, saved = point.tokenizer
        guard saved.kind == data.kind, saved.vocabularySize == data.vocabularySize else {
            throw TrainingError.tokenizerMismatch(corpus: corpus.name, kind: data.kind, vocabularySize: data.vocabularySize,
                                                  checkpointKind: saved.kind, checkpointVocabularySize: saved.vocabularySize)
        }
        guard point.state.step < run.training.maxSteps else {
            throw TrainingError.alreadyFinished(checkpoint: directory, step: point.state.step,
                                                maxSteps: run.training.maxSteps)
        }
    }

    /// Trains with the ranks of `parallelism` (before `train`): every rank builds the same loop
    /// and calls this with its own communicator.
    public func distribute(_ parallelism: DataParallelism) throws {
        try parallelism.check(batch: run.training.batchSize)
        guard trainer == nil else { throw ModelError.state("distribute a training loop before it trains") }
        self.parallelism = parallelism
    }

    /// The memory the run needs on each rank's device (check it against the device before `train`
    /// allocates the optimizer): a rank's part of the batch, and with ZeRO-1 its shard of AdamW.
    public var memoryEstimate: MemoryEstimate {
        MemoryEstimate(model: model, batch: run.training.batchSize / parallelism.size, length: run.model.contextLength,
                       optimizerShards: parallelism.shardsOptimizerState ? parallelism.size : 1)
    }

    /// Trains until maxSteps, `output.stopAfter` or the interrupt hook, whichever comes first, and
    /// ends with a resumable checkpoint in `output.directory`.
    public func train(output: TrainingOutput, hooks: TrainingHooks = TrainingHooks()) throws -> TrainingSummary {
        if parallelism.isDistributed { try checkRanksAgree() }
        var session = try TrainingSession(loop: self, trainer: try makeTrainer(), output: output)
        let firstStep = state.step, start = ContinuousClock.now, elapsedBefore = state.elapsedSeconds
        var finalValidationLoss: Float?
        var interrupted = false
        while state.step < session.lastStep {
            let report = try session.step(&state)
            hooks.step(report)
            var validationLoss: Float?
            if let evaluation = try session.evaluateIfDue(&state) {
                hooks.evaluation(evaluation)
                (validationLoss, finalValidationLoss) = (evaluation.validationLoss, evaluation.validationLoss)
            }
            state.elapsedSeconds = elapsedBefore + secondsSince(start)
            session.log(report, validationLoss: validationLoss, elapsed: state.elapsedSeconds)
            if let text = try session.sampleIfDue(step: report.step) { hooks.sample(report.step, text) }
            if try agreeToStop(hooks.interrupt()) {
                interrupted = true
                break
            }
            if session.isCheckpointDue(step: report.step) {
                try save(session, reason: .interval(run.training.checkpointInterval), hooks: hooks)
            }
        }
        let reason: CheckpointReason = interrupted ? .interrupted
            : session.lastStep < run.training.maxSteps ? .stopAfter : .final
        try save(session, reason: reason, hooks: hooks)
        return TrainingSummary(steps: state.step - firstStep, lastStep: state.step, interrupted: interrupted,
                               finalValidationLoss: finalValidationLoss, trainingSeconds: session.trainingSeconds,
                               wallSeconds: secondsSince(start), tokensPerStep: session.tokensPerStep,
                               directory: session.directory)
    }

    /// The trainer, made on the first `train` (after the caller could check the memory estimate),
    /// with the resumed checkpoint's optimizer state.
    private func makeTrainer() throws -> Trainer {
        if let trainer { return trainer }
        let made = try Trainer(model: model, settings: run.training, parallelism: parallelism)
        if let savedMoments {
            try made.optimizer.restore(step: state.step, firstMoment: savedMoments.first,
                                       secondMoment: savedMoments.second)
        }
        trainer = made
        return made
    }

    private func save(_ session: TrainingSession, reason: CheckpointReason, hooks: TrainingHooks) throws {
        let moments = try session.trainer.optimizerMoments()  // every rank: ZeRO-1 gathers the shards
        guard parallelism.isWriter else { return }
        let files = try Checkpoint.trainingFiles(moments: moments, run: run, state: state)
        try Checkpoint.save(model, tokenizer: tokenizer, to: session.directory, extraFiles: files,
                            companions: Self.companions)
        hooks.checkpoint(state.step, reason, session.directory)
    }

    /// An output directory must be new, empty, a checkpoint, or hold only what a run keeps there:
    /// anything else would be replaced by the first checkpoint, so it is refused before training.
    public static func checkOutputDirectory(_ path: String) throws {
        let directory = Checkpoint.normalized(path)
        guard FileManager.default.fileExists(atPath: directory) else { return }
        guard FileIO.isDirectory(directory) else { throw TrainingError.outputIsNotADirectory(path: directory) }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        guard contents.contains(Checkpoint.configFileName) || contents.allSatisfy(companions.contains) else {
            throw TrainingError.outputIsNotACheckpoint(path: directory)
        }
    }
}

/// Wall-clock seconds since `start`.
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let parts = (ContinuousClock.now - start).components
    return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
}
