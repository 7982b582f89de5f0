// The `gpt train` loop: build or resume the model, estimate memory, then per step draw K
// micro-batches, take one optimizer step, log a CSV row (OUT/log.csv by default), evaluate every
// evalInterval steps, sample text every sampleInterval steps (KV cache, temperature 0.8, printed and
// appended to OUT/samples.txt) and checkpoint every checkpointInterval steps and at the end.
//
// Directory layout: OUT is a resumable checkpoint (model files + run.json, optimizer.safetensors,
// training_state.json); OUT/best holds the model with the lowest validation loss so far (model
// files + run.json, for generation). log.csv, samples.txt and best/ are carried into every new
// OUT when a checkpoint replaces it. Resuming re-seeds the batch stream and skips the batches
// already drawn, so on a CPU backend the resumed curve is bit-identical to an uninterrupted one.

import Compute
import FoundationEssentials
import GPT
import Tokenizers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How this invocation runs, beside the run config: paths and session limits.
struct TrainingSession {
    var dataPath: String
    var resumeDirectory: String?
    var outputDirectory: String
    /// nil: OUT/log.csv.
    var logPath: String?
    /// End after this step with a resumable checkpoint (nil: run to maxSteps).
    var stopAfter: Int?
    /// Overrides the device's memory capacity for the refusal check.
    var memoryLimit: Int?
    var logEvery: Int
    var threads: Int?
}

enum TrainingRun {
    static let logFileName = "log.csv"
    static let samplesFileName = "samples.txt"
    static let bestDirectoryName = "best"
    /// Entries of OUT that live beside the checkpoint and survive its replacement.
    static let companions = [logFileName, samplesFileName, bestDirectoryName]

    static func start(_ requested: RunConfig, session: TrainingSession) throws {
        var run = requested
        let settings = run.training
        let backend = try backendRegistry.make(settings.backend,
                                               options: BackendOptions(device: settings.device, threads: session.threads))
        let output = Checkpoint.normalized(session.outputDirectory)
        try checkOutputDirectory(output)

        let dataset: any TrainingData, dataTokenizer: any Tokenizer
        if FileIO.isDirectory(session.dataPath) {
            let prepared = try PreparedDataset(directory: session.dataPath, contextLength: run.model.contextLength)
            (dataset, dataTokenizer) = (prepared, prepared.tokenizer)
        } else {
            (dataset, dataTokenizer) = try TextDataset.loadCharacters(path: session.dataPath,
                                                                      contextLength: run.model.contextLength)
        }

        let model: GPTModel, tokenizer: any Tokenizer
        var state = TrainingState(step: 0, batchesConsumed: 0, bestValidationLoss: nil, elapsedSeconds: 0)
        var resumed: ResumePoint?
        if let directory = session.resumeDirectory {
            let point = try Checkpoint.loadTraining(from: directory, backend: backend)
            guard point.tokenizer.kind == dataTokenizer.kind,
                  point.tokenizer.vocabularySize == dataTokenizer.vocabularySize else {
                throw RuntimeError("\(session.dataPath): its \(dataTokenizer.kind) tokenizer of \(dataTokenizer.vocabularySize) "
                                   + "tokens differs from the checkpoint's (\(point.tokenizer.kind), "
                                   + "\(point.tokenizer.vocabularySize)); resume with the data the run was trained on")
            }
            guard point.state.step < settings.maxSteps else {
                throw RuntimeError("\(directory): the run already finished step \(point.state.step) of \(settings.maxSteps); "
                                   + "pass a larger --steps to continue it")
            }
            (model, tokenizer, state, resumed) = (point.model, point.tokenizer, point.state, point)
        } else {
            run.model.vocabSize = dataTokenizer.vocabularySize
            model = try GPTModel(config: run.model, backend: backend, seed: settings.seed)
            tokenizer = dataTokenizer
        }
        if let stop = session.stopAfter, stop <= state.step {
            throw UsageError(command: "train", message: "--stop-after \(stop) is not after the checkpoint's step \(state.step)")
        }

        let (batch, length, accumulation) = (settings.batchSize, run.model.contextLength, settings.gradientAccumulation)
        print("config: \(describe(run.model))")
        print("training: \(describe(settings))")
        print("parameters: \(Format.grouped(model.trainableParameterCount)) trainable")
        print("backend: \(backend.name) (\(backend.deviceDescription))")
        print("data: \(session.dataPath): \(Format.grouped(dataset.trainTokenCount + dataset.validationTokenCount)) tokens "
              + "(\(Format.grouped(dataset.trainTokenCount)) train, \(Format.grouped(dataset.validationTokenCount)) validation), "
              + "\(tokenizer.kind) tokenizer, vocabulary \(tokenizer.vocabularySize)")
        let estimate = MemoryEstimate(model: model, batch: batch, length: length)
        print(estimate.summary)
        if let capacity = session.memoryLimit ?? backend.memoryCapacity ?? MemoryEstimate.physicalMemoryBytes() {
            let device = session.memoryLimit != nil ? "--memory-limit" : "\(backend.name) (\(backend.deviceDescription))"
            try estimate.check(capacity: capacity, device: device)
        }
        print("steps: \(settings.maxSteps), batch \(batch) x \(accumulation) micro-batches x \(length) tokens, "
              + "lr \(Format.scientific(Double(settings.learningRate))), warmup \(settings.warmupSteps), seed \(settings.seed)"
              + (resumed != nil ? "; resuming after step \(state.step) from \(session.resumeDirectory!)" : ""))

        let trainer = try Trainer(model: model, settings: settings)
        if let resumed {
            try trainer.optimizer.restore(step: state.step, firstMoment: resumed.firstMoment,
                                          secondMoment: resumed.secondMoment)
        }
        let samplePrompt = try sampleTokens(settings, tokenizer: tokenizer)

        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let logPath = session.logPath ?? output + "/" + logFileName
        if let directory = session.resumeDirectory, !FileManager.default.fileExists(atPath: logPath) {
            // Resuming into a new OUT: continue the old log there.
            try? FileManager.default.copyItem(atPath: Checkpoint.normalized(directory) + "/" + logFileName, toPath: logPath)
        }
        let log = try TrainingLog.Writer(path: logPath, resumeStep: resumed != nil ? state.step : nil)

        let validationBatches = dataset.validationBatches(batchSize: batch, count: settings.evalBatches).map(\.pair)
        let trainEvaluationBatches = dataset.trainingEvaluationBatches(batchSize: batch, count: settings.evalBatches).map(\.pair)
        var batches = dataset.trainingBatches(batchSize: batch, seed: CounterRNG.seed(settings.seed, 0xDA7A))
        batches.skip(batches: state.batchesConsumed)

        func save(reason: String) throws {
            let files = try Checkpoint.trainingFiles(trainer: trainer, run: run, state: state)
            try Checkpoint.save(model, tokenizer: tokenizer, to: output, extraFiles: files, companions: companions)
            if Console.stdoutIsTerminal { Console.clearLine() }
            print("checkpoint (step \(state.step), \(reason)) saved to \(output)")
        }

        let lastStep = min(settings.maxSteps, session.stopAfter ?? settings.maxSteps)
        let progress = ProgressLine(totalSteps: settings.maxSteps, tokensPerStep: batch * length * accumulation,
                                    redraw: Console.stdoutIsTerminal, every: session.logEvery)
        let start = ContinuousClock.now, elapsedBefore = state.elapsedSeconds
        var finalValidationLoss: Float?
        Interrupt.install()
        defer { Interrupt.uninstall() }
        while state.step < lastStep {
            let step = state.step + 1
            let micro = (0..<accumulation).map { _ in batches.next()!.pair }
            let stepStart = ContinuousClock.now
            let stats = try trainer.trainStep(microBatches: micro, batch: batch, length: length)
            let stepSeconds = seconds(since: stepStart)
            guard stats.loss.isFinite else {
                throw RuntimeError("training diverged at step \(step) (loss \(stats.loss)); try a lower --lr")
            }
            state.step = step
            state.batchesConsumed += accumulation
            progress.record(step: step, seconds: stepSeconds, stats: stats)

            var validationLoss: Float?
            if step % settings.evalInterval == 0 || step == settings.maxSteps {
                let trainLoss = try trainer.evaluate(trainEvaluationBatches, batch: batch, length: length)
                let loss = try trainer.evaluate(validationBatches, batch: batch, length: length)
                if Console.stdoutIsTerminal { Console.clearLine() }
                print("step \(step): train loss \(Format.fixed(Double(trainLoss), 4)), val loss \(Format.fixed(Double(loss), 4))")
                validationLoss = loss
                finalValidationLoss = loss
                if loss.isFinite, state.bestValidationLoss.map({ loss < $0 }) ?? true {
                    state.bestValidationLoss = loss
                    try Checkpoint.save(model, tokenizer: tokenizer, to: output + "/" + bestDirectoryName,
                                        extraFiles: [(Checkpoint.runConfigFileName, try run.encoded())])
                }
            }
            state.elapsedSeconds = elapsedBefore + seconds(since: start)
            log.append(TrainingLogRow(step: step, trainLoss: stats.loss, validationLoss: validationLoss,
                                      learningRate: stats.learningRate, gradientNorm: stats.gradientNorm,
                                      tokensPerSecond: Double(batch * length * accumulation) / max(stepSeconds, 1e-9),
                                      elapsedSeconds: state.elapsedSeconds))
            if settings.sampleInterval > 0 && step % settings.sampleInterval == 0, let samplePrompt {
                try writeSample(model: model, tokenizer: tokenizer, prompt: samplePrompt, settings: settings,
                                step: step, to: output + "/" + samplesFileName)
            }
            if Interrupt.requested {
                try save(reason: "interrupted")
                print("stopped at step \(step) of \(settings.maxSteps); continue with: gpt train --data \(session.dataPath) --resume \(output)")
                return
            }
            if step < lastStep && settings.checkpointInterval > 0 && step % settings.checkpointInterval == 0 {
                try save(reason: "every \(settings.checkpointInterval) steps")
            }
        }
        try save(reason: lastStep < settings.maxSteps ? "--stop-after" : "final")
        let steps = lastStep - (resumed?.state.step ?? 0)
        print("done: \(steps) steps in \(Format.duration(seconds(since: start))) "
              + "(\(Format.rate(Double(steps * batch * length * accumulation), progress.trainingSeconds)) tok/s while training), "
              + "final val loss \(finalValidationLoss.map { Format.fixed(Double($0), 4) } ?? "not evaluated"); "
              + "checkpoint saved to \(output)")
    }

    /// OUT must be new, empty, a checkpoint, or hold only what a run keeps there: anything else
    /// would be replaced by the first checkpoint, so refuse before training rather than after.
    static func checkOutputDirectory(_ output: String) throws {
        guard FileManager.default.fileExists(atPath: output) else { return }
        guard FileIO.isDirectory(output) else { throw RuntimeError("--out \(output): exists and is not a directory") }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []
        guard contents.contains(Checkpoint.configFileName) || contents.allSatisfy(companions.contains) else {
            throw RuntimeError("--out \(output): exists and is not a checkpoint directory; choose another --out")
        }
    }

    /// The sample prompt's tokens, checked before training (nil when sampling is off).
    static func sampleTokens(_ settings: TrainingSettings, tokenizer: any Tokenizer) throws -> [Int32]? {
        guard settings.sampleInterval > 0, settings.sampleTokens > 0 else { return nil }
        let tokens: [Int32]
        do {
            tokens = try tokenizer.encode(settings.samplePrompt)
        } catch {
            throw RuntimeError("sample prompt: \(error)")
        }
        guard !tokens.isEmpty else { throw RuntimeError("sample prompt: must not be empty (--sample-prompt)") }
        return tokens
    }

    /// Generates one sample (KV cache, temperature 0.8, seeded by the step), prints it and appends
    /// it to `path` under a "=== step N ===" line.
    static func writeSample(model: GPTModel, tokenizer: any Tokenizer, prompt: [Int32], settings: TrainingSettings,
                            step: Int, to path: String) throws {
        var sampler = try Sampler(temperature: 0.8, seed: CounterRNG.seed(settings.seed, UInt64(step), 0x5A4D))
        let generated = try Generator(model: model).generate(prompt: prompt, maxTokens: settings.sampleTokens,
                                                             sampler: &sampler)
        let text = String(decoding: tokenizer.decodeBytes(prompt + generated), as: UTF8.self)
        if Console.stdoutIsTerminal { Console.clearLine() }
        print("sample at step \(step):\n\(text)\n")
        guard let file = fopen(path, "a") else {
            throw RuntimeError("\(path): cannot open for appending (\(String(cString: strerror(errno))))")
        }
        defer { fclose(file) }
        fputs("=== step \(step) ===\n\(text)\n", file)
    }
}

extension TokenBatch {
    /// The (tokens, targets) pair the trainer takes.
    var pair: (tokens: [Int32], targets: [Int32]) { (tokens, targets) }
}

extension MemoryEstimate {
    /// Throws a one-line refusal when the estimate exceeds `capacity` bytes.
    func check(capacity: Int, device: String) throws {
        guard totalBytes > capacity else { return }
        throw RuntimeError("the run needs about \(Self.format(totalBytes)) but \(device) holds \(Self.format(capacity)); "
                           + "use a smaller --batch-size (with --grad-accum to keep the batch) or a smaller model")
    }
}
