// The `gpt train` session around the library's TrainingLoop: make the backend, lock --out (rank 0),
// load the corpus (with --init-from, a text file is encoded by the checkpoint's tokenizer), build,
// resume or initialise the run from a checkpoint (refused before it allocates when the memory
// estimate exceeds the device), print what it is, then train with hooks that print progress,
// evaluations, samples and checkpoints, and turn the first Ctrl-C into a resumable checkpoint
// (Interrupt.swift). Under mpirun every rank runs this with its own communicator
// (DistributedRun.swift) and takes the device of its node-local rank.

import Compute
import GPT
import Tokenizers

/// How this invocation runs, beside the run config: paths and session limits.
struct TrainInvocation {
    var dataPath: String
    var resumeDirectory: String?
    /// On resume, accept data whose fingerprint differs from the checkpoint's.
    var allowDifferentData: Bool
    /// The checkpoint a fine-tuning run starts from (--init-from).
    var initFrom: String?
    var outputDirectory: String
    /// nil: OUT/log.csv.
    var logPath: String?
    /// End after this step with a resumable checkpoint (nil: run to maxSteps).
    var stopAfter: Int?
    /// Overrides the device's memory capacity for the refusal check.
    var memoryLimit: Int?
    var logEvery: Int
    var threads: Int?
    /// The ranks this process trains with (one process unless started by mpirun).
    var parallelism: DataParallelism
}

enum TrainingRun {
    static func start(_ requested: RunConfig, invocation: TrainInvocation) throws {
        do {
            try run(requested, invocation: invocation)
        } catch let error as TrainingError {
            throw RuntimeError(message(for: error))
        } catch let error as CheckpointLockError {
            throw RuntimeError("--out \(error)")
        } catch let error as MemoryError {
            throw RuntimeError("the run \(error); use a smaller --batch-size (with --grad-accum to keep the batch), "
                               + "fewer --eval-batches or --sample-tokens, or a smaller model")
        }
    }

    private static func run(_ requested: RunConfig, invocation: TrainInvocation) throws {
        let parallelism = invocation.parallelism
        let backend = try backendRegistry.make(requested.training.backend, options: BackendOptions(
            device: requested.training.device, threads: invocation.threads,
            deviceOrdinal: parallelism.size > 1 ? parallelism.communicator.localRank : nil))
        let output = Checkpoint.normalized(invocation.outputDirectory)
        try TrainingLoop.checkOutputDirectory(output)
        // Before anything is loaded: a second trainer on this --out is refused at once, and an
        // interrupted save there is finished or undone before the run reads the checkpoint.
        // Only rank 0 writes --out, so only it locks it (the other ranks never touch the directory).
        try parallelism.check(batch: requested.training.batchSize)  // before the lock creates --out
        let lock = parallelism.isWriter ? try CheckpointLock(output) : nil
        for note in lock?.recovered ?? [] { print(note) }
        let corpus = try loadCorpus(invocation, contextLength: requested.model.contextLength)
        let limit = invocation.memoryLimit
        let loop: TrainingLoop
        if let source = invocation.initFrom {
            loop = try TrainingLoop(initializingFrom: source, training: requested.training, corpus: corpus, backend: backend,
                                    memoryLimit: limit, parallelism: parallelism)
        } else if let resume = invocation.resumeDirectory {
            loop = try TrainingLoop(resuming: resume, run: requested, corpus: corpus, backend: backend, memoryLimit: limit,
                                    allowingDifferentData: invocation.allowDifferentData, parallelism: parallelism)
        } else {
            loop = try TrainingLoop(run: requested, corpus: corpus, backend: backend, memoryLimit: limit,
                                    parallelism: parallelism)
        }
        if let stop = invocation.stopAfter, stop <= loop.state.step {
            throw UsageError(command: "train", message: "--stop-after \(stop) is not after the checkpoint's step \(loop.state.step)")
        }
        printRun(loop, backend: backend, invocation: invocation)
        let settings = loop.run.training
        print("steps: \(settings.maxSteps), batch \(settings.batchSize) x \(settings.gradientAccumulation) micro-batches "
              + "x \(loop.run.model.contextLength) tokens, lr \(Format.scientific(Double(settings.learningRate))), "
              + "warmup \(settings.warmupSteps), seed \(settings.seed)"
              + (invocation.resumeDirectory.map { "; resuming after step \(loop.state.step) from \($0)" } ?? ""))

        let tokensPerStep = settings.batchSize * loop.run.model.contextLength * settings.gradientAccumulation
        let progress = ProgressLine(totalSteps: settings.maxSteps, tokensPerStep: tokensPerStep,
                                    redraw: Console.stdoutIsTerminal, every: invocation.logEvery)
        Interrupt.install()
        defer { Interrupt.uninstall() }
        let summary = try loop.train(output: TrainingOutput(directory: output, logPath: invocation.logPath,
                                                            stopAfter: invocation.stopAfter, lock: lock),
                                     hooks: hooks(progress: progress))
        printSummary(summary, maxSteps: settings.maxSteps)
        try DistributedProcess.finish()
    }

    /// The training data: a prepared directory, or a text file (tokenized by characters, or with
    /// --init-from by the checkpoint's tokenizer).
    private static func loadCorpus(_ invocation: TrainInvocation, contextLength: Int) throws -> TrainingCorpus {
        guard let source = invocation.initFrom, !FileIO.isDirectory(invocation.dataPath) else {
            return try TrainingCorpus.load(path: invocation.dataPath, contextLength: contextLength)
        }
        return try TrainingCorpus.load(textFile: invocation.dataPath, tokenizer: try Checkpoint.readTokenizer(from: source),
                                       contextLength: contextLength)
    }

    /// The run as the log shows it before the first step.
    private static func printRun(_ loop: TrainingLoop, backend: any Backend, invocation: TrainInvocation) {
        let data = loop.corpus.dataset, tokenizer = loop.tokenizer
        if let source = invocation.initFrom {
            print("init from: \(source): its architecture, weights and tokenizer; a fresh optimizer; dropout "
                  + "\(loop.run.model.dropout) (--dropout)")
        }
        print("config: \(describe(loop.run.model))")
        print("training: \(describe(loop.run.training))")
        print("parameters: \(Format.grouped(loop.model.trainableParameterCount)) trainable")
        print("backend: \(backend.name) (\(backend.deviceDescription))")
        let parallelism = loop.parallelism
        if parallelism.size > 1 {
            let batch = loop.run.training.batchSize
            print("distributed: \(parallelism.communicator.summary); each rank runs \(batch / parallelism.size) of the "
                  + "\(batch) sequences of every micro-batch"
                  + (parallelism.shardsOptimizerState ? "; AdamW moments sharded over the ranks (ZeRO-1)" : ""))
        }
        print("data: \(invocation.dataPath): \(Format.grouped(data.trainTokenCount + data.validationTokenCount)) tokens "
              + "(\(Format.grouped(data.trainTokenCount)) train, \(Format.grouped(data.validationTokenCount)) validation), "
              + "\(tokenizer.kind) tokenizer, vocabulary \(tokenizer.vocabularySize)")
        print(loop.memoryEstimate.summary)
    }

    /// The CLI's side of the loop: a progress line per step, a line per evaluation, checkpoint and
    /// sample, and Ctrl-C as the interrupt.
    private static func hooks(progress: ProgressLine) -> TrainingHooks {
        var hooks = TrainingHooks()
        hooks.step = { progress.record(step: $0.step, seconds: $0.seconds, stats: $0.stats) }
        hooks.evaluation = { evaluation in
            if Console.stdoutIsTerminal { Console.clearLine() }
            print("step \(evaluation.step): train loss \(Format.fixed(Double(evaluation.trainLoss), 4)), "
                  + "val loss \(Format.fixed(Double(evaluation.validationLoss), 4))")
        }
        hooks.sample = { step, text in
            if Console.stdoutIsTerminal { Console.clearLine() }
            print("sample at step \(step):\n\(text)\n")
        }
        hooks.checkpoint = { step, reason, directory in
            if Console.stdoutIsTerminal { Console.clearLine() }
            print("checkpoint (step \(step), \(label(reason))) saved to \(directory)")
        }
        hooks.interrupt = { Interrupt.requested }
        return hooks
    }

    private static func label(_ reason: CheckpointReason) -> String {
        switch reason {
        case let .interval(steps): return "every \(steps) steps"
        case .interrupted: return "interrupted"
        case .stopAfter: return "--stop-after"
        case .final: return "final"
        case .stoppedByError: return "before the error below"
        }
    }

    private static func printSummary(_ summary: TrainingSummary, maxSteps: Int) {
        if summary.interrupted {
            print("stopped at step \(summary.lastStep) of \(maxSteps); continue with: gpt train --resume \(summary.directory)")
            return
        }
        let tokens = Double(summary.steps * summary.tokensPerStep)
        print("done: \(summary.steps) steps in \(Format.duration(summary.wallSeconds)) "
              + "(\(Format.rate(tokens, summary.trainingSeconds)) tok/s while training), "
              + "final val loss \(summary.finalValidationLoss.map { Format.fixed(Double($0), 4) } ?? "not evaluated"); "
              + "checkpoint saved to \(summary.directory)")
    }

    /// The library's message, with the flag that fixes it where one does.
    private static func message(for error: TrainingError) -> String {
        switch error {
        case let .diverged(step, loss):
            return "training diverged at step \(step) (loss \(loss)); try a lower --lr"
        case let .alreadyFinished(checkpoint, step, maxSteps):
            return "\(checkpoint): the run already finished step \(step) of \(maxSteps); pass a larger --steps to continue it"
        case let .dataChanged(corpus, trainedOn, given):
            return "--data \(corpus) is not the data the checkpoint was trained on (\(trainedOn.path): "
                + "\(trainedOn.bytes) bytes, sha256 \(trainedOn.sha256.prefix(12))…; this is \(given.bytes) bytes, "
                + "sha256 \(given.sha256.prefix(12))…); resume with that data, or pass --allow-different-data"
        case let .outputIsNotADirectory(path):
            return "--out \(path): exists and is not a directory"
        case let .outputIsNotACheckpoint(path):
            return "--out \(path): holds files a checkpoint would replace but is not a checkpoint directory; "
                + "choose another --out"
        case let .logIsACheckpointFile(path):
            return "--log \(path): the log cannot take the place of a file the checkpoint writes; choose another --log"
        case .emptySamplePrompt:
            return "sample prompt: must not be empty (--sample-prompt)"
        case let .batchNotDivisible(batch, ranks):
            return "--batch-size \(batch) is the global batch and must be a multiple of the \(ranks) ranks"
        default:
            return error.description
        }
    }
}
