// `gpt train`: train a model on a prepared data directory (gpt prepare: token files read window by
// window, and their tokenizer) or on a text file (character tokenizer built on the fly, last 10% held out for
// validation). The run's settings come from --config (a preset, a ModelConfig JSON, or a run config
// JSON with "model"/"training" sections) and the flags the user passed, which override it; or, with
// --resume DIR, from the checkpoint's run.json (only --steps, --backend and --device may change); or,
// with --init-from DIR, the model is that checkpoint's (architecture and weights: ours or one
// transformers wrote) and the flags set only how it is trained.
// The session around the library's TrainingLoop is in TrainingRun.swift.

import FoundationEssentials
import GPT
import Tokenizers

struct TrainOptions: OptionGroup {
    let data = Option("data", .path("FILE|DIR"), documentedDefault: "on --resume, the data the checkpoint records",
                      help: "a directory from gpt prepare, or UTF-8 text (char tokenizer; with --init-from, the checkpoint's)")
    let config = CommonOptions.config()
    let resume = Option("resume", .path("DIR"),
                        help: "continue the training checkpoint in DIR exactly (its run.json; only --steps, --backend, --device may change)")
    let allowDifferentData = Option(onOff: "allow-different-data",
                                    help: "on --resume, go on with --data other than the checkpoint's (no longer exact)")
    let initFrom = CommonOptions.initFrom()
    /// Flags that set a training setting. They have no default of their own: one not given leaves
    /// the config's value (help shows TrainingSettings' default).
    let settings = trainingSettingOptions()
    let out = Option("out", .path("DIR"), documentedDefault: "the --resume DIR, else checkpoint",
                     help: "checkpoint directory; the best one goes to DIR/best")
    let log = Option("log", .path("FILE.csv"), documentedDefault: "OUT/log.csv", help: "per-step CSV log")
    let stopAfter = Option("stop-after", .integer(atLeast: 1),
                           help: "end this session after step N with a resumable checkpoint (the schedule still spans --steps)")
    let memoryLimit = CommonOptions.memoryLimit()
    let logEvery = Option("log-every", .integer(atLeast: 1), default: 50,
                          help: "steps between progress lines when stdout is not a terminal")
    let threads = CommonOptions.threads()
    let distributed = DistributedOptions()

    var all: [any AnyOption] {
        [data, config, resume, allowDifferentData, initFrom] + settings.options()
            + [out, log, stopAfter, memoryLimit, logEvery, threads] + distributed.all
    }
}

/// The run config keys of the training settings the flags set, by flag.
private let runConfigKeys = [
    "steps": "maxSteps", "batch-size": "batchSize", "grad-accum": "gradientAccumulation", "lr": "learningRate",
    "min-lr": "minLearningRate", "warmup": "warmupSteps", "weight-decay": "weightDecay", "beta1": "beta1",
    "beta2": "beta2", "grad-clip": "gradientClip", "dropout": "dropout", "eval-interval": "evalInterval",
    "eval-batches": "evalBatches", "checkpoint-interval": "checkpointInterval", "sample-interval": "sampleInterval",
    "sample-tokens": "sampleTokens",
]

/// A settings message in run config keys ("training.minLearningRate must not be above
/// learningRate") with each key written as its flag ("--min-lr must not be above --lr").
func flagNamed(_ message: String) -> String {
    var words = message.replacing("training.", with: "").split(separator: " ", omittingEmptySubsequences: false)
        .map(String.init)
    for (index, word) in words.enumerated() {
        let key = word.filter { $0.isLetter || $0.isNumber }
        if let flag = runConfigKeys.first(where: { $0.value == key })?.key {
            words[index] = word.replacing(key, with: "--" + flag)
        }
    }
    return words.joined(separator: " ")
}

/// Every training setting a flag can set, in run.json's order of concerns.
private func trainingSettingOptions() -> [SettingOption<TrainingSettings>] {
    let d = TrainingSettings()
    return [
        SettingOption(Option("steps", .integer(atLeast: 1), documentedDefault: "\(d.maxSteps)", help: "optimizer steps"),
                      \.maxSteps),
        SettingOption(Option("batch-size", .integer(atLeast: 1, placeholder: "B"), documentedDefault: "\(d.batchSize)",
                             help: "sequences per micro-batch (over all ranks under mpirun)"), \.batchSize),
        SettingOption(Option("grad-accum", .integer(atLeast: 1, placeholder: "K"),
                             documentedDefault: "\(d.gradientAccumulation)",
                             help: "micro-batches per optimizer step (gradient accumulation)"), \.gradientAccumulation),
        SettingOption(Option("lr", .number(atLeast: 0), documentedDefault: "\(d.learningRate)", help: "peak learning rate"),
                      \.learningRate),
        SettingOption(Option("min-lr", .number(atLeast: 0), documentedDefault: "lr / 10", help: "final learning rate"),
                      \.minLearningRate),
        SettingOption(Option("warmup", .integer(atLeast: 0), documentedDefault: "\(d.warmupSteps)",
                             help: "linear warmup steps, then cosine decay"), \.warmupSteps),
        SettingOption(Option("weight-decay", .number(atLeast: 0), documentedDefault: "\(d.weightDecay)",
                             help: "AdamW weight decay on 2-D weights"), \.weightDecay),
        SettingOption(Option("beta1", .number(atLeast: 0, below: 1), documentedDefault: "\(d.beta1)", help: "AdamW beta1"),
                      \.beta1),
        SettingOption(Option("beta2", .number(atLeast: 0, below: 1), documentedDefault: "\(d.beta2)", help: "AdamW beta2"),
                      \.beta2),
        SettingOption(Option("grad-clip", .number(atLeast: 0), documentedDefault: "\(d.gradientClip)",
                             help: "global gradient-norm clip; 0 = off"), \.gradientClip),
        SettingOption(Option("dropout", .number(atLeast: 0, below: 1, placeholder: "P"), documentedDefault: "the config's",
                             help: "dropout probability"), \.dropout),
        SettingOption(CommonOptions.seed(), \.seed),
        SettingOption(Option("eval-interval", .integer(atLeast: 1), documentedDefault: "\(d.evalInterval)",
                             aliases: ["eval-every"], help: "steps between train/val loss evaluations"), \.evalInterval),
        SettingOption(Option("eval-batches", .integer(atLeast: 1), documentedDefault: "\(d.evalBatches)",
                             help: "batches per loss estimate"), \.evalBatches),
        SettingOption(Option("checkpoint-interval", .integer(atLeast: 0), documentedDefault: "\(d.checkpointInterval)",
                             help: "steps between checkpoints; 0 = only at the end"), \.checkpointInterval),
        SettingOption(Option("sample-interval", .integer(atLeast: 0), documentedDefault: "\(d.sampleInterval)",
                             help: "steps between text samples; 0 = none"), \.sampleInterval),
        SettingOption(Option("sample-prompt", .escapedText("TEXT"), documentedDefault: escape(d.samplePrompt),
                             help: "prompt of the samples (escapes: \\n, \\t, \\\\)"), \.samplePrompt),
        SettingOption(Option("sample-tokens", .integer(atLeast: 0), documentedDefault: "\(d.sampleTokens)",
                             help: "tokens per sample"), \.sampleTokens),
        SettingOption(CommonOptions.backend(), \.backend),
        SettingOption(CommonOptions.device(), \.device),
    ]
}

let trainCommand = Command("train", summary: "train a model on a UTF-8 text file and save a checkpoint",
                           options: TrainOptions.self) { options in
    var run = try startingRunConfig(options)
    run.training = options.settings.applied(to: run.training)
    if options.resume.wasGiven, options.settings.contains(where: { $0.name == "backend" && $0.option.wasGiven }),
       !options.settings.contains(where: { $0.name == "device" && $0.option.wasGiven }) {
        run.training.device = nil  // a device of the old backend means nothing to the new one
    }
    do {
        try run.training.validate()
    } catch {
        // The file's values were checked when it was read: what fails now is a flag's doing.
        throw UsageError(command: "train", message: flagNamed("\(error)"))
    }
    if options.allowDifferentData.value && !options.resume.wasGiven {
        throw UsageError(command: "train", message: "--allow-different-data applies only with --resume")
    }
    let invocation = TrainInvocation(
        dataPath: try dataPath(options), resumeDirectory: options.resume.given,
        allowDifferentData: options.allowDifferentData.value, initFrom: options.initFrom.given,
        outputDirectory: options.out.given ?? options.resume.given ?? "checkpoint", logPath: options.log.given,
        stopAfter: options.stopAfter.given, memoryLimit: options.memoryLimit.given, logEvery: options.logEvery.value,
        threads: options.threads.given, parallelism: try options.distributed.parallelism())
    try TrainingRun.start(run, invocation: invocation)
}

/// --data, or on --resume the data the checkpoint records (a checkpoint of an earlier version
/// records none: then --data is required).
private func dataPath(_ options: TrainOptions) throws -> String {
    if let data = options.data.given { return data }
    guard let resume = options.resume.given else {
        throw UsageError(command: "train", message: "missing required flag --data")
    }
    guard let recorded = try Checkpoint.readTrainingState(from: resume).data?.path else {
        throw RuntimeError("\(resume): the checkpoint does not record its data (an earlier version wrote it); pass --data")
    }
    return recorded
}

/// The run config the flags apply to: the checkpoint's run.json on --resume, the model of the
/// --init-from checkpoint, else --config's.
private func startingRunConfig(_ options: TrainOptions) throws -> RunConfig {
    if let source = options.initFrom.given {
        if options.resume.wasGiven {
            throw UsageError(command: "train", message: "--init-from cannot be combined with --resume (a resumed run "
                             + "continues its own checkpoint; --init-from starts a new run from another's weights)")
        }
        if options.config.wasGiven {
            throw UsageError(command: "train", message: "--config cannot be combined with --init-from: the model is the "
                             + "checkpoint's (its config.json); the training flags set the rest")
        }
        return RunConfig(model: try Checkpoint.readConfig(from: source))
    }
    guard let resume = options.resume.given else { return try loadRunConfig(options.config.value) }
    guard FileIO.isDirectory(resume) else {
        throw RuntimeError("--resume \(resume): " + (FileManager.default.fileExists(atPath: resume)
            ? "not a directory" : "no such checkpoint directory"))
    }
    if options.config.wasGiven {
        throw UsageError(command: "train", message: "--config cannot be combined with --resume (the run config comes from the checkpoint)")
    }
    // Where the run executes may change (a resumed run may move machines); what it computes may
    // not, except how long it goes on. Bit-identical curves need the same backend.
    let changeable: Set<String> = ["steps", "backend", "device"]
    if let setting = options.settings.first(where: { !changeable.contains($0.name) && $0.option.wasGiven }) {
        throw UsageError(command: "train",
                         message: "--\(setting.name) cannot change on --resume; only --steps, --backend and --device may")
    }
    return try RunConfig.load(path: Checkpoint.filePath(Checkpoint.runConfigFileName, in: resume))
}
