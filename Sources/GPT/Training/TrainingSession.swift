// One `TrainingLoop.train` session's working state and the work of its steps: the trainer, the
// batch stream positioned where the run stands, the fixed evaluation batches, the CSV log, the
// sample prompt, and the step the session ends at. Data-parallel, every rank draws the same global
// batches and runs its rows of them; only rank 0 writes the log, samples and best checkpoint.

import Compute
import FoundationEssentials
import Tokenizers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct TrainingSession {
    let loop: TrainingLoop
    let trainer: Trainer
    let directory: String
    /// The step this session ends after: maxSteps, or an earlier stop.
    let lastStep: Int
    let tokensPerStep: Int
    /// Seconds spent in optimizer steps so far.
    private(set) var trainingSeconds = 0.0
    private var batches: RandomBatches
    private let validationBatches: [(tokens: [Int32], targets: [Int32])]
    private let trainEvaluationBatches: [(tokens: [Int32], targets: [Int32])]
    /// Rank 0's; nil on the other ranks.
    private let logWriter: TrainingLog.Writer?
    /// nil when sampling is off.
    private let samplePrompt: [Int32]?
    /// The output directory's lock, held for the session by the rank that writes (nil on the others).
    private let lock: CheckpointLock?
    /// What taking the lock did about interrupted saves, when the session took it itself.
    let recovered: [String]

    private var settings: TrainingSettings { loop.run.training }
    private var length: Int { loop.run.model.contextLength }
    /// This rank's sequences of every global batch (all of them in one process).
    private let rows: Range<Int>
    private var isWriter: Bool { loop.parallelism.isWriter }

    init(loop: TrainingLoop, trainer: Trainer, output: TrainingOutput) throws {
        let settings = loop.run.training, step = loop.state.step
        self.loop = loop
        self.trainer = trainer
        directory = Checkpoint.normalized(output.directory)
        rows = loop.parallelism.rows(ofBatch: settings.batchSize)
        if loop.parallelism.isWriter { try TrainingLoop.checkOutputDirectory(directory) }
        if let stop = output.stopAfter, stop <= step { throw TrainingError.stopsBeforeStart(stopAfter: stop, step: step) }
        lastStep = min(settings.maxSteps, output.stopAfter ?? settings.maxSteps)
        tokensPerStep = settings.batchSize * loop.run.model.contextLength * settings.gradientAccumulation
        samplePrompt = try Self.sampleTokens(settings, tokenizer: loop.tokenizer)
        // Only the rank that writes locks the directory and opens the log: the others never touch it.
        if !loop.parallelism.isWriter {
            (lock, recovered) = (nil, [])
        } else if let held = output.lock, held.directory == directory {
            (lock, recovered) = (held, [])
        } else {
            let taken = try CheckpointLock(directory)
            (lock, recovered) = (taken, taken.recovered)
        }
        if loop.parallelism.isWriter {
            let logPath = output.logPath ?? directory + "/" + TrainingLoop.logFileName
            try TrainingLoop.checkLogPath(logPath, directory: directory)
            logWriter = try Self.openLog(logPath, loop: loop)
        } else {
            logWriter = nil
        }
        let dataset = loop.corpus.dataset, rows = rows
        validationBatches = try dataset.validationBatches(batchSize: settings.batchSize, count: settings.evalBatches)
            .map { $0.rows(rows).pair }
        trainEvaluationBatches = try dataset.trainingEvaluationBatches(batchSize: settings.batchSize,
                                                                       count: settings.evalBatches).map { $0.rows(rows).pair }
        batches = dataset.trainingBatches(batchSize: settings.batchSize, seed: CounterRNG.seed(settings.seed, 0xDA7A))
        batches.skip(batches: loop.state.batchesConsumed)
    }

    /// The sample prompt's tokens, checked before training (nil when sampling is off).
    private static func sampleTokens(_ settings: TrainingSettings, tokenizer: any Tokenizer) throws -> [Int32]? {
        guard settings.sampleInterval > 0, settings.sampleTokens > 0 else { return nil }
        let tokens: [Int32]
        do {
            tokens = try tokenizer.encode(settings.samplePrompt)
        } catch {
            throw TrainingError.unusableSamplePrompt(reason: "\(error)")
        }
        guard !tokens.isEmpty else { throw TrainingError.emptySamplePrompt }
        return tokens
    }

    /// The log, without the rows after the resumed step; a run resumed into a new directory
    /// continues the old directory's log there.
    private static func openLog(_ path: String, loop: TrainingLoop) throws -> TrainingLog.Writer {
        if let resumed = loop.resumedFrom, !FileManager.default.fileExists(atPath: path) {
            try? FileManager.default.copyItem(atPath: resumed + "/" + TrainingLoop.logFileName, toPath: path)
        }
        return try TrainingLog.Writer(path: path, resumeStep: loop.resumedFrom != nil ? loop.state.step : nil)
    }

    /// One optimizer step on the next K micro-batches; `state` counts it. A token file that can no
    /// longer be read throws its `TokenFileError` before the model is touched.
    mutating func step(_ state: inout TrainingState) throws -> TrainingStepReport {
        let step = state.step + 1, accumulation = settings.gradientAccumulation
        var micro: [(tokens: [Int32], targets: [Int32])] = []
        for _ in 0..<accumulation { micro.append(try batches.next(rows: rows).pair) }
        let start = ContinuousClock.now
        let stats = try trainer.trainStep(microBatches: micro, batch: rows.count, length: length,
                                          firstSequence: rows.lowerBound)
        let seconds = secondsSince(start)
        guard stats.loss.isFinite else { throw TrainingError.diverged(step: step, loss: stats.loss) }
        state.step = step
        state.batchesConsumed += accumulation
        trainingSeconds += seconds
        return TrainingStepReport(step: step, stats: stats, seconds: seconds, tokens: tokensPerStep)
    }

    /// The train and validation loss every evalInterval steps and at maxSteps; a new lowest
    /// validation loss saves the model to best/.
    func evaluateIfDue(_ state: inout TrainingState) throws -> TrainingEvaluation? {
        let step = state.step
        guard step % settings.evalInterval == 0 || step == settings.maxSteps else { return nil }
        let trainLoss = try trainer.evaluate(trainEvaluationBatches, batch: rows.count, length: length)
        let loss = try trainer.evaluate(validationBatches, batch: rows.count, length: length)
        let isBest = loss.isFinite && (state.bestValidationLoss.map { loss < $0 } ?? true)
        if isBest {
            state.bestValidationLoss = loss
        }
        if isBest && isWriter {
            try Checkpoint.save(loop.model, tokenizer: loop.tokenizer, to: directory + "/" + TrainingLoop.bestDirectoryName,
                                extraFiles: [(Checkpoint.runConfigFileName, try loop.run.encoded())])
        }
        return TrainingEvaluation(step: step, trainLoss: trainLoss, validationLoss: loss, isBest: isBest)
    }

    func log(_ report: TrainingStepReport, validationLoss: Float?, elapsed: Double) throws {
        try logWriter?.append(TrainingLogRow(step: report.step, trainLoss: report.stats.loss, validationLoss: validationLoss,
                                  learningRate: report.stats.learningRate, gradientNorm: report.stats.gradientNorm,
                                  tokensPerSecond: Double(tokensPerStep) / max(report.seconds, 1e-9),
                                  elapsedSeconds: elapsed))
    }

    /// Every sampleInterval steps: the prompt and its continuation (KV cache, temperature 0.8,
    /// seeded by the step), appended to samples.txt under a "=== step N ===" line. The continuation
    /// ends early at one of the tokenizer's end-of-sequence tokens, which is not part of the text;
    /// the prompt is shown as written (not the BOS a Hub tokenizer puts before its tokens).
    func sampleIfDue(step: Int) throws -> String? {
        guard isWriter, settings.sampleInterval > 0 && step % settings.sampleInterval == 0, let samplePrompt else {
            return nil
        }
        var sampler = try Sampler(temperature: 0.8, seed: CounterRNG.seed(settings.seed, UInt64(step), 0x5A4D))
        let stopTokens = Set(loop.tokenizer.sequenceBoundaries.endOfSequence)
        var generated = try Generator(model: loop.model, stopTokens: stopTokens)
            .generate(prompt: samplePrompt, maxTokens: settings.sampleTokens, sampler: &sampler)
        if let last = generated.last, stopTokens.contains(last) { generated.removeLast() }
        let text = settings.samplePrompt + String(decoding: loop.tokenizer.decodeBytes(generated), as: UTF8.self)
        let path = directory + "/" + TrainingLoop.samplesFileName
        guard let file = fopen(path, "a") else { throw TrainingLogError(description: "\(path): cannot open for appending") }
        defer { fclose(file) }
        guard fputs("=== step \(step) ===\n\(text)\n", file) >= 0, fflush(file) == 0 else {
            throw TrainingLogError(description: "\(path): cannot write the sample: \(String(cString: strerror(errno)))")
        }
        return text
    }

    /// Whether a periodic checkpoint falls on `step` (the session's last step gets its own).
    func isCheckpointDue(step: Int) -> Bool {
        step < lastStep && settings.checkpointInterval > 0 && step % settings.checkpointInterval == 0
    }
}

extension TokenBatch {
    /// The (tokens, targets) pair the trainer takes.
    var pair: (tokens: [Int32], targets: [Int32]) { (tokens, targets) }
}
