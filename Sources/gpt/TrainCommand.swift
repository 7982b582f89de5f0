// `gpt train`: train a model on a prepared data directory (gpt prepare: memory-mapped tokens and
// their tokenizer) or on a text file (character tokenizer built on the fly, last 10% held out for
// validation). The run's settings come from --config (a preset, a ModelConfig JSON, or a run config
// JSON with "model"/"training" sections) and the flags the user passed, which override it; or, with
// --resume DIR, from the checkpoint's run.json (only --steps, --backend and --device may change). The session around the
// library's TrainingLoop is in TrainingRun.swift.

import Compute
import FoundationEssentials
import GPT
import Tokenizers

/// Help text ending in the built-in default (flags carry no parser default: a flag the user did
/// not pass must not override the config file).
private func setting(_ help: String, _ value: Any?) -> String {
    "\(help) (default: \(value.map { "\($0)" } ?? "none"))"
}

private let defaults = TrainingSettings()

/// Flags that set a training setting, in the order `apply(_:to:)` reads them.
private let settingFlags: [Flag] = [
    Flag(name: "steps", placeholder: "N", defaultValue: nil, help: setting("optimizer steps", defaults.maxSteps)),
    Flag(name: "batch-size", placeholder: "B", defaultValue: nil, help: setting("sequences per micro-batch", defaults.batchSize)),
    Flag(name: "grad-accum", placeholder: "K", defaultValue: nil,
         help: setting("micro-batches per optimizer step (gradient accumulation)", defaults.gradientAccumulation)),
    Flag(name: "lr", placeholder: "X", defaultValue: nil, help: setting("peak learning rate", defaults.learningRate)),
    Flag(name: "min-lr", placeholder: "X", defaultValue: nil, help: "final learning rate (default: lr / 10)"),
    Flag(name: "warmup", placeholder: "N", defaultValue: nil,
         help: setting("linear warmup steps, then cosine decay", defaults.warmupSteps)),
    Flag(name: "weight-decay", placeholder: "X", defaultValue: nil,
         help: setting("AdamW weight decay on 2-D weights", defaults.weightDecay)),
    Flag(name: "beta1", placeholder: "X", defaultValue: nil, help: setting("AdamW beta1", defaults.beta1)),
    Flag(name: "beta2", placeholder: "X", defaultValue: nil, help: setting("AdamW beta2", defaults.beta2)),
    Flag(name: "grad-clip", placeholder: "X", defaultValue: nil,
         help: setting("global gradient-norm clip; 0 = off", defaults.gradientClip)),
    Flag(name: "dropout", placeholder: "P", defaultValue: nil, help: "dropout probability (default: the config's)"),
    Flag(name: "seed", placeholder: "S", defaultValue: nil, help: setting("seed for init, batches and dropout", defaults.seed)),
    Flag(name: "eval-interval", placeholder: "N", defaultValue: nil,
         help: setting("steps between train/val loss evaluations", defaults.evalInterval)),
    Flag(name: "eval-every", placeholder: "N", defaultValue: nil, help: "the same as --eval-interval"),
    Flag(name: "eval-batches", placeholder: "N", defaultValue: nil, help: setting("batches per loss estimate", defaults.evalBatches)),
    Flag(name: "checkpoint-interval", placeholder: "N", defaultValue: nil,
         help: setting("steps between checkpoints; 0 = only at the end", defaults.checkpointInterval)),
    Flag(name: "sample-interval", placeholder: "N", defaultValue: nil,
         help: setting("steps between text samples; 0 = none", defaults.sampleInterval)),
    Flag(name: "sample-prompt", placeholder: "TEXT", defaultValue: nil, help: "prompt of the samples (default: \\n)"),
    Flag(name: "sample-tokens", placeholder: "N", defaultValue: nil, help: setting("tokens per sample", defaults.sampleTokens)),
    Flag(name: "backend", placeholder: "NAME", defaultValue: nil, help: setting("compute backend (see gpt backends)", defaults.backend)),
    Flag(name: "device", placeholder: "ID", defaultValue: nil, help: "device index or name substring (OpenCL)"),
]

let trainCommand = Command(
    name: "train",
    summary: "train a model on a UTF-8 text file and save a checkpoint",
    flags: [
        Flag(name: "data", placeholder: "FILE|DIR", defaultValue: nil,
             help: "a directory from gpt prepare, or UTF-8 text (char tokenizer)", required: true),
        Flag(name: "config", placeholder: "PRESET|FILE.json", defaultValue: nil,
             help: "a preset (\(ModelConfig.presetNames.joined(separator: ", "))), a ModelConfig JSON, "
                 + "or a run config JSON with \"model\"/\"training\" sections (default: char-baby)"),
        Flag(name: "resume", placeholder: "DIR", defaultValue: nil,
             help: "continue the training checkpoint in DIR exactly (its run.json; only --steps, --backend, --device may change)"),
    ] + settingFlags + [
        Flag(name: "out", placeholder: "DIR", defaultValue: nil,
             help: "checkpoint directory (default: the --resume DIR, else checkpoint); the best one goes to DIR/best"),
        Flag(name: "log", placeholder: "FILE.csv", defaultValue: nil, help: "per-step CSV log (default: OUT/log.csv)"),
        Flag(name: "stop-after", placeholder: "N", defaultValue: nil,
             help: "end this session after step N with a resumable checkpoint (the schedule still spans --steps)"),
        Flag(name: "memory-limit", placeholder: "BYTES", defaultValue: nil,
             help: "refuse runs whose estimate exceeds this (e.g. 8G; default: the device's memory)"),
        Flag(name: "log-every", placeholder: "N", defaultValue: "50",
             help: "steps between progress lines when stdout is not a terminal"),
        Flag(name: "threads", placeholder: "N", defaultValue: nil, help: "CPU threads for CPU backends (default: all)"),
    ]
) { arguments in
    let dataPath = arguments.string("data")!
    let resumeDirectory = arguments.string("resume")
    var run: RunConfig
    if let resumeDirectory {
        if arguments.string("config") != nil {
            throw UsageError(command: "train", message: "--config cannot be combined with --resume (the run config comes from the checkpoint)")
        }
        // Where the run executes may change (a resumed run may move machines); what it computes may
        // not, except how long it goes on. Bit-identical curves need the same backend.
        let changeable: Set<String> = ["steps", "backend", "device"]
        if let flag = settingFlags.first(where: { !changeable.contains($0.name) && arguments.string($0.name) != nil }) {
            throw UsageError(command: "train",
                             message: "--\(flag.name) cannot change on --resume; only --steps, --backend and --device may")
        }
        run = try RunConfig.load(path: Checkpoint.normalized(resumeDirectory) + "/" + Checkpoint.runConfigFileName)
    } else {
        run = try loadRunConfig(arguments.string("config") ?? "char-baby")
    }
    try apply(arguments, to: &run)
    do {
        try run.training.validate()
    } catch {
        throw UsageError(command: "train", message: "\(error)")
    }
    let session = TrainInvocation(
        dataPath: dataPath, resumeDirectory: resumeDirectory,
        outputDirectory: arguments.string("out") ?? resumeDirectory ?? "checkpoint",
        logPath: arguments.string("log"), stopAfter: try arguments.int("stop-after", atLeast: 1),
        memoryLimit: try arguments.string("memory-limit").map { try parseByteCount($0, flag: "memory-limit") },
        logEvery: try arguments.int("log-every", atLeast: 1)!, threads: try arguments.int("threads", atLeast: 1))
    try TrainingRun.start(run, session: session)
}

/// `--config`: a preset name, a ModelConfig JSON (camelCase keys, as `ModelConfig` encodes), or a
/// run config JSON (an object with a "model" and/or "training" key).
func loadRunConfig(_ value: String) throws -> RunConfig {
    let isFile = value.hasSuffix(".json") || value.contains("/")
    guard isFile else { return RunConfig(model: try loadModelConfig(value)) }
    let data = try FileIO.readData(value)
    if let keys = try? JSONDecoder().decode(TopLevelKeys.self, from: data).keys,
       keys.contains("model") || keys.contains("training") {
        return try RunConfig.load(path: value)
    }
    return RunConfig(model: try loadModelConfig(value))
}

/// The keys of a JSON object, to tell a run config from a ModelConfig.
private struct TopLevelKeys: Decodable {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    let keys: [String]

    init(from decoder: Decoder) throws {
        keys = try decoder.container(keyedBy: Key.self).allKeys.map(\.stringValue)
    }
}

/// Overrides `run`'s training settings with the flags the user passed (and no others).
private func apply(_ arguments: ParsedArguments, to run: inout RunConfig) throws {
    var t = run.training
    if let value = try arguments.int("steps", atLeast: 1) { t.maxSteps = value }
    if let value = try arguments.int("batch-size", atLeast: 1) { t.batchSize = value }
    if let value = try arguments.int("grad-accum", atLeast: 1) { t.gradientAccumulation = value }
    if let value = try arguments.float("lr", atLeast: 0) { t.learningRate = value }
    if let value = try arguments.float("min-lr", atLeast: 0) { t.minLearningRate = value }
    if let value = try arguments.int("warmup", atLeast: 0) { t.warmupSteps = value }
    if let value = try arguments.float("weight-decay", atLeast: 0) { t.weightDecay = value }
    if let value = try arguments.float("beta1", atLeast: 0, below: 1) { t.beta1 = value }
    if let value = try arguments.float("beta2", atLeast: 0, below: 1) { t.beta2 = value }
    if let value = try arguments.float("grad-clip", atLeast: 0) { t.gradientClip = value }
    if let value = try arguments.float("dropout", atLeast: 0, below: 1) { t.dropout = value }
    if let value = try arguments.seed("seed") { t.seed = value }
    let interval = try arguments.int("eval-interval", atLeast: 1), every = try arguments.int("eval-every", atLeast: 1)
    if interval != nil && every != nil {
        throw UsageError(command: "train", message: "give --eval-interval or --eval-every, not both")
    }
    if let value = interval ?? every { t.evalInterval = value }
    if let value = try arguments.int("eval-batches", atLeast: 1) { t.evalBatches = value }
    if let value = try arguments.int("checkpoint-interval", atLeast: 0) { t.checkpointInterval = value }
    if let value = try arguments.int("sample-interval", atLeast: 0) { t.sampleInterval = value }
    if let value = arguments.string("sample-prompt") { t.samplePrompt = unescape(value) }
    if let value = try arguments.int("sample-tokens", atLeast: 0) { t.sampleTokens = value }
    if let value = arguments.string("backend") { t.backend = value }
    if let value = arguments.string("device") { t.device = value }
    run.training = t
}

/// "123", "64K", "512M", "8G" (powers of 1024) -> bytes.
func parseByteCount(_ text: String, flag: String) throws -> Int {
    let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
    var digits = Substring(text), scale = 1
    if let last = text.last?.uppercased().first, let unit = units[last] {
        digits = text.dropLast()
        scale = unit
    }
    guard let value = Double(digits), value.isFinite, value > 0, value * Double(scale) < 9e18 else {
        throw UsageError(command: "train", message: "--\(flag) expects a byte count such as 512M or 8G, got '\(text)'")
    }
    return Int(value * Double(scale))
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

/// Every training setting on one line, in run.json's names.
func describe(_ t: TrainingSettings) -> String {
    let sample = t.samplePrompt.replacing("\n", with: "\\n")
    return "batchSize \(t.batchSize), gradientAccumulation \(t.gradientAccumulation), learningRate \(t.learningRate), "
        + "minLearningRate \(t.minLearningRate ?? t.learningRate / 10), warmupSteps \(t.warmupSteps), "
        + "maxSteps \(t.maxSteps), weightDecay \(t.weightDecay), beta1 \(t.beta1), beta2 \(t.beta2), "
        + "epsilon \(t.epsilon), gradientClip \(t.gradientClip), dropout \(t.dropout.map { "\($0)" } ?? "model's"), "
        + "evalInterval \(t.evalInterval), evalBatches \(t.evalBatches), checkpointInterval \(t.checkpointInterval), "
        + "sampleInterval \(t.sampleInterval), samplePrompt \"\(sample)\", sampleTokens \(t.sampleTokens), "
        + "seed \(t.seed), backend \(t.backend), device \(t.device ?? "default")"
}
