// `gpt train`: train a model on a prepared data directory (gpt prepare: memory-mapped tokens and
// their tokenizer) or on a text file (character tokenizer built on the fly, last 10% held out for
// validation), report progress and losses, and save a checkpoint that carries the tokenizer.

import Compute
import GPT

let trainCommand = Command(
    name: "train",
    summary: "train a model on a UTF-8 text file and save a checkpoint",
    flags: [
        Flag(name: "data", placeholder: "FILE|DIR", defaultValue: nil,
             help: "a directory from gpt prepare, or UTF-8 text (char tokenizer)", required: true),
        Flag(name: "config", placeholder: "PRESET|FILE.json", defaultValue: "char-baby",
             help: "a preset (\(ModelConfig.presetNames.joined(separator: ", "))) or a JSON ModelConfig"),
        Flag(name: "backend", placeholder: "NAME", defaultValue: "auto", help: "compute backend (see gpt backends)"),
        Flag(name: "steps", placeholder: "N", defaultValue: "2000", help: "optimizer steps"),
        Flag(name: "batch-size", placeholder: "B", defaultValue: "12", help: "sequences per step"),
        Flag(name: "lr", placeholder: "X", defaultValue: "1e-3", help: "peak learning rate"),
        Flag(name: "min-lr", placeholder: "X", defaultValue: nil, help: "final learning rate (default: lr / 10)"),
        Flag(name: "warmup", placeholder: "N", defaultValue: "100", help: "linear warmup steps, then cosine decay"),
        Flag(name: "weight-decay", placeholder: "X", defaultValue: "0.1", help: "AdamW weight decay on 2-D weights"),
        Flag(name: "dropout", placeholder: "P", defaultValue: nil, help: "dropout probability (default: the config's)"),
        Flag(name: "seed", placeholder: "S", defaultValue: "1337", help: "seed for init, batches and dropout"),
        Flag(name: "out", placeholder: "DIR", defaultValue: "checkpoint", help: "checkpoint directory to write"),
        Flag(name: "eval-every", placeholder: "N", defaultValue: "250", help: "steps between train/val loss reports"),
        Flag(name: "eval-batches", placeholder: "N", defaultValue: "20", help: "batches per loss estimate"),
        Flag(name: "log-every", placeholder: "N", defaultValue: "50",
             help: "steps between progress lines when stdout is not a terminal"),
        Flag(name: "threads", placeholder: "N", defaultValue: nil, help: "CPU threads for CPU backends (default: all)"),
    ]
) { arguments in
    let dataPath = arguments.string("data")!
    var options = TrainingOptions()
    options.steps = try arguments.int("steps", atLeast: 1)!
    options.batchSize = try arguments.int("batch-size", atLeast: 1)!
    options.learningRate = try arguments.float("lr", atLeast: 0)!
    options.minLearningRate = try arguments.float("min-lr", atLeast: 0)
    options.warmupSteps = try arguments.int("warmup", atLeast: 0)!
    options.weightDecay = try arguments.float("weight-decay", atLeast: 0)!
    options.seed = try arguments.seed("seed")!
    let dropout = try arguments.float("dropout", atLeast: 0, below: 1)
    let evalEvery = try arguments.int("eval-every", atLeast: 1)!
    let evalBatches = try arguments.int("eval-batches", atLeast: 1)!
    let logEvery = try arguments.int("log-every", atLeast: 1)!
    let threads = try arguments.int("threads", atLeast: 1)
    let outputDirectory = arguments.string("out")!

    // Cheap checks first: a bad config or backend fails before the corpus is read.
    var config = try loadModelConfig(arguments.string("config")!)
    if let dropout { config.dropout = dropout }
    let backend = try backendRegistry.make(arguments.string("backend")!, options: BackendOptions(threads: threads))

    let dataset: any TrainingData, tokenizer: any Tokenizer
    if FileIO.isDirectory(dataPath) {
        let prepared = try PreparedDataset(directory: dataPath, contextLength: config.contextLength)
        (dataset, tokenizer) = (prepared, prepared.tokenizer)
    } else {
        (dataset, tokenizer) = try TextDataset.loadCharacters(path: dataPath, contextLength: config.contextLength)
    }
    config.vocabSize = tokenizer.vocabularySize
    let model = try GPTModel(config: config, backend: backend, seed: options.seed)
    let trainer = try Trainer(model: model, options: options)

    print("config: \(describe(config))")
    print("parameters: \(Format.grouped(model.trainableParameterCount)) trainable")
    print("backend: \(backend.name) (\(backend.deviceDescription))")
    print("data: \(dataPath): \(Format.grouped(dataset.trainTokenCount + dataset.validationTokenCount)) tokens "
          + "(\(Format.grouped(dataset.trainTokenCount)) train, \(Format.grouped(dataset.validationTokenCount)) validation), "
          + "\(tokenizer.kind) tokenizer, vocabulary \(tokenizer.vocabularySize)")
    print("training: \(options.steps) steps, batch \(options.batchSize) x \(config.contextLength) tokens, "
          + "lr \(Format.scientific(Double(options.learningRate))), warmup \(options.warmupSteps), seed \(options.seed)")

    let batchSize = options.batchSize, length = config.contextLength
    let validationBatches = dataset.validationBatches(batchSize: batchSize, count: evalBatches)
    let trainEvaluationBatches = dataset.trainingEvaluationBatches(batchSize: batchSize, count: evalBatches)
    func evaluate(at step: Int) throws -> Float {
        let pairs = { (batches: [TokenBatch]) in batches.map { (tokens: $0.tokens, targets: $0.targets) } }
        let trainLoss = try trainer.evaluate(pairs(trainEvaluationBatches), batch: batchSize, length: length)
        let validationLoss = try trainer.evaluate(pairs(validationBatches), batch: batchSize, length: length)
        if Console.stdoutIsTerminal { Console.clearLine() }
        print("step \(step): train loss \(Format.fixed(Double(trainLoss), 4)), val loss \(Format.fixed(Double(validationLoss), 4))")
        return validationLoss
    }

    var batches = dataset.trainingBatches(batchSize: batchSize, seed: CounterRNG.seed(options.seed, 0xDA7A))
    let progress = ProgressLine(totalSteps: options.steps, tokensPerStep: batchSize * length,
                                redraw: Console.stdoutIsTerminal, every: logEvery)
    let start = ContinuousClock.now
    var finalValidationLoss: Float = .nan
    for step in 1...options.steps {
        let batch = batches.next()!
        let stepStart = ContinuousClock.now
        let stats = try trainer.trainStep(tokens: batch.tokens, targets: batch.targets, batch: batchSize, length: length)
        guard stats.loss.isFinite else {
            throw RuntimeError("training diverged at step \(step) (loss \(stats.loss)); try a lower --lr")
        }
        progress.record(step: step, seconds: seconds(since: stepStart), stats: stats)
        if step % evalEvery == 0 || step == options.steps { finalValidationLoss = try evaluate(at: step) }
    }
    let trainingSeconds = progress.trainingSeconds
    try Checkpoint.save(model, tokenizer: tokenizer, to: outputDirectory)
    print("done: \(options.steps) steps in \(Format.duration(seconds(since: start))) "
          + "(\(Format.rate(Double(options.steps * batchSize * length), trainingSeconds)) tok/s while training), "
          + "final val loss \(Format.fixed(Double(finalValidationLoss), 4)); checkpoint saved to \(outputDirectory)")
}

/// A preset name, or a path to a JSON ModelConfig (camelCase keys, as `ModelConfig` encodes).
func loadModelConfig(_ value: String) throws -> ModelConfig {
    let isFile = value.hasSuffix(".json") || value.contains("/")
    let config = isFile ? try FileIO.decodeJSON(ModelConfig.self, from: value) : try ModelConfig.preset(value)
    do {
        try config.validate()
    } catch {
        throw RuntimeError(isFile ? "\(value): \(error)" : "\(error)")
    }
    return config
}

/// The config on one line, for the training log.
func describe(_ config: ModelConfig) -> String {
    "\(config.layers) layers, \(config.heads) heads, \(config.embeddingDim) dim, ffn \(config.ffnDim), "
        + "context \(config.contextLength), vocabulary \(config.vocabSize), \(config.norm.rawValue) norm, "
        + "\(config.activation.rawValue), \(config.positions.rawValue) positions, "
        + "\(config.tiedEmbeddings ? "tied" : "untied") head, \(config.bias ? "with" : "no") bias, "
        + "dropout \(config.dropout)"
}
