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
// loss so far (model files + run.json, for generation); log.csv and samples.txt sit beside them.
// Saves replace only the checkpoint's own files (CheckpointPublisher), and the run holds the
// directory's lock (CheckpointLock) from its start to its end. Resuming re-seeds the batch stream and
// skips the batches already drawn, and dropout masks come from (seed, step), so on a CPU backend a
// resumed curve is bit-identical to an uninterrupted one.
//
// Data-parallel (the inits' `parallelism`), every rank runs the loop with the same run and its part of each
// batch (DataParallelism.swift); only rank 0 writes, and the hooks that report a sample or a
// checkpoint are called on rank 0 only. The checkpoint is the single-process one (ZeRO-1 shards
// are gathered first), so it resumes under any number of ranks that divides the batch.

import Compute
import FoundationEssentials
import Tokenizers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A training run, fresh or resumed, ready to `train`.
public final class TrainingLoop {
    /// The CSV log in the output directory (unless `TrainingOutput.logPath` says otherwise).
    public static let logFileName = "log.csv"
    /// The text samples, appended to as they are made.
    public static let samplesFileName = "samples.txt"
    /// The model with the lowest validation loss so far.
    public static let bestDirectoryName = "best"

    /// The effective run: the model's vocabulary is the corpus tokenizer's (a config's explicit
    /// vocabSize must equal it), and a training dropout overrides the model's. Saved as run.json
    /// in every checkpoint.
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
    /// The memory the run needs; checked against the device before anything was allocated.
    public let memoryEstimate: MemoryEstimate
    /// AdamW's moments from the resumed checkpoint, restored when the trainer is made.
    private let savedMoments: (first: [Float], second: [Float])?
    private var trainer: Trainer?
    /// The ranks this run trains with (one process unless the init was given others).
    public let parallelism: DataParallelism

    /// A fresh run of `run` on `corpus`: parameters initialised from the training seed. Refused
    /// with a `MemoryError`, before anything is allocated, when its memory estimate exceeds
    /// `memoryLimit` bytes (nil: the device's memory, see `MemoryBudget`). Data-parallel, every
    /// rank builds the same loop with its own communicator in `parallelism`, and the estimate is
    /// one rank's.
    public init(run: RunConfig, corpus: TrainingCorpus, backend: any Backend, memoryLimit: Int? = nil,
                parallelism: DataParallelism = .singleProcess) throws {
        var effective = run
        let dataVocabulary = corpus.tokenizer.vocabularySize
        if run.vocabularyFromData {
            effective.model.vocabSize = dataVocabulary
        } else if run.model.vocabSize != dataVocabulary {
            throw TrainingError.vocabularyMismatch(corpus: corpus.name, kind: corpus.tokenizer.kind,
                                                   dataSize: dataVocabulary, configSize: run.model.vocabSize)
        }
        if let dropout = run.training.dropout { effective.model.dropout = dropout }
        try effective.model.validate()
        try effective.training.validate()
        try parallelism.check(batch: effective.training.batchSize)
        let estimate = try Self.estimate(effective.model, effective.training, parallelism)
        try estimate.check(MemoryBudget.of(backend, limit: memoryLimit))
        memoryEstimate = estimate
        self.parallelism = parallelism
        self.run = effective
        self.corpus = corpus
        model = try GPTModel(config: effective.model, backend: backend, seed: effective.training.seed)
        tokenizer = corpus.tokenizer
        state = TrainingState(step: 0, batchesConsumed: 0, bestValidationLoss: nil, elapsedSeconds: 0,
                              data: corpus.fingerprint)
        resumedFrom = nil
        savedMoments = nil
    }

    /// Continues the training checkpoint in `directory` exactly: its parameters, AdamW moments,
    /// step and data position. `run` is the checkpoint's run.json, where only maxSteps, backend
    /// and device may differ; `corpus` must be tokenized as the run's was, and be the same data
    /// (its fingerprint, when both are known) unless `allowingDifferentData`. The memory estimate
    /// is checked as for a fresh run, once the checkpoint's files are, before the model is allocated.
    public init(resuming directory: String, run: RunConfig, corpus: TrainingCorpus, backend: any Backend,
                memoryLimit: Int? = nil, allowingDifferentData: Bool = false,
                parallelism: DataParallelism = .singleProcess) throws {
        try parallelism.check(batch: run.training.batchSize)
        var estimate: MemoryEstimate?
        let point = try Checkpoint.loadTraining(from: directory, backend: backend) { config in
            let needed = try Self.estimate(config, run.training, parallelism)
            try needed.check(MemoryBudget.of(backend, limit: memoryLimit))
            estimate = needed
        }
        try Self.checkResumable(point, directory: directory, run: run, corpus: corpus)
        if let saved = point.state.data, let given = corpus.fingerprint, !saved.sameData(as: given), !allowingDifferentData {
            throw TrainingError.dataChanged(corpus: corpus.name, trainedOn: saved, given: given)
        }
        memoryEstimate = estimate!  // set before loadTraining allocated the model
        self.parallelism = parallelism
        self.run = run
        self.corpus = corpus
        model = point.model
        tokenizer = point.tokenizer
        state = point.state
        state.data = corpus.fingerprint ?? point.state.data
        resumedFrom = Checkpoint.normalized(directory)
        savedMoments = (point.firstMoment, point.secondMoment)
    }

    /// One rank's memory: its part of the batch, and with ZeRO-1 its shard of AdamW.
    private static func estimate(_ config: ModelConfig, _ settings: TrainingSettings,
                                 _ parallelism: DataParallelism) throws(SizeOverflow) -> MemoryEstimate {
        try MemoryEstimate.training(config, settings: settings, ranks: parallelism.size,
                                    optimizerShards: parallelism.shardsOptimizerState ? parallelism.size : 1)
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

    /// Trains until maxSteps, `output.stopAfter` or the interrupt hook, whichever comes first, and
    /// ends with a resumable checkpoint in `output.directory`.
    public func train(output: TrainingOutput, hooks: TrainingHooks = TrainingHooks()) throws -> TrainingSummary {
        if parallelism.isDistributed { try checkRanksAgree() }
        var session = try TrainingSession(loop: self, trainer: try makeTrainer(), output: output)
        for note in session.recovered { hooks.recovered(note) }
        let firstStep = state.step, start = ContinuousClock.now, elapsedBefore = state.elapsedSeconds
        var finalValidationLoss: Float?
        var interrupted = false
        while state.step < session.lastStep {
            let report: TrainingStepReport
            do {
                report = try session.step(&state)
            } catch let error as TokenFileError {
                // The data failed before the step touched the model: keep what the run has done.
                try saveBeforeStopping(session, hooks: hooks)
                throw error
            }
            hooks.step(report)
            var validationLoss: Float?
            if let evaluation = try session.evaluateIfDue(&state) {
                hooks.evaluation(evaluation)
                (validationLoss, finalValidationLoss) = (evaluation.validationLoss, evaluation.validationLoss)
            }
            state.elapsedSeconds = elapsedBefore + secondsSince(start)
            do {
                try session.log(report, validationLoss: validationLoss, elapsed: state.elapsedSeconds)
                if let text = try session.sampleIfDue(step: report.step) { hooks.sample(report.step, text) }
            } catch let error as TrainingLogError {
                // The step is done and the model consistent: keep it, then report the write.
                try saveBeforeStopping(session, hooks: hooks)
                throw error
            }
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

    /// The checkpoint of the last completed step before an error stops the run. Only one process
    /// saves on its own: a rank of a data-parallel run fails alone, and a save there is a
    /// collective (ZeRO-1's gather) the other ranks never join, so it stops with the last periodic
    /// checkpoint instead.
    private func saveBeforeStopping(_ session: TrainingSession, hooks: TrainingHooks) throws {
        guard !parallelism.isDistributed else { return }
        try save(session, reason: .stoppedByError, hooks: hooks)
    }

    private func save(_ session: TrainingSession, reason: CheckpointReason, hooks: TrainingHooks) throws {
        let moments = try session.trainer.optimizerMoments()  // every rank: ZeRO-1 gathers the shards
        guard parallelism.isWriter else { return }
        let files = try Checkpoint.trainingFiles(moments: moments, run: run, state: state)
        try Checkpoint.save(model, tokenizer: tokenizer, to: session.directory, extraFiles: files)
        hooks.checkpoint(state.step, reason, session.directory)
    }

    /// An output directory must be new, or a directory where no checkpoint file (in it or in its
    /// best/) would replace a file of that name that no checkpoint save wrote: such a file is
    /// someone else's, so the run is refused before training rather than at its first save.
    public static func checkOutputDirectory(_ path: String) throws {
        let directory = Checkpoint.normalized(path)
        guard CheckpointPublisher.exists(directory) else { return }
        guard FileIO.isDirectory(directory) else { throw TrainingError.outputIsNotADirectory(path: directory) }
        for (place, names) in [(directory, CheckpointPublisher.unlistedFiles),
                               (directory + "/" + bestDirectoryName, CheckpointPublisher.unlistedModelFiles)] {
            let owned = Set(CheckpointPublisher.ownedFiles(place))
            if names.contains(where: { !owned.contains($0) && CheckpointPublisher.exists(place + "/" + $0) }) {
                throw TrainingError.outputIsNotACheckpoint(path: place)
            }
        }
    }

    /// The log may live anywhere but in the place of a file the checkpoint writes or manages.
    static func checkLogPath(_ log: String, directory: String) throws {
        let name = String(log.split(separator: "/").last ?? "")
        guard let parent = realPath(Checkpoint.parentDirectory(of: log)) else { return }
        let checkpoints = [directory, directory + "/" + bestDirectoryName].compactMap(realPath)
        let reserved = CheckpointPublisher.unlistedFiles + [CheckpointManifest.fileName, CheckpointLock.fileName,
            CheckpointPublisher.stagingName, CheckpointPublisher.publishingName, bestDirectoryName, samplesFileName]
        if checkpoints.contains(parent) && reserved.contains(name) || checkpoints.contains(where: { parent.hasPrefix($0 + "/.gpt-") }) {
            throw TrainingError.logIsACheckpointFile(path: log)
        }
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// Wall-clock seconds since `start`.
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let parts = (ContinuousClock.now - start).components
    return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
}
