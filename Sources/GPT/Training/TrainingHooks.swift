// What a caller of `TrainingLoop.train` chooses and hears: where the run writes and how far this
// session goes (TrainingOutput), the hooks the loop calls as it goes (log a step, an evaluation, a
// sample, a checkpoint; ask whether to stop), and what the session did (TrainingSummary). The loop
// prints nothing itself: the CLI's progress line and messages are these hooks.

/// Where a run writes, and where this session ends.
public struct TrainingOutput: Sendable {
    /// The checkpoint directory: a resumable checkpoint, with the CSV log, the samples and the best
    /// model (in `best/`) beside it.
    public var directory: String
    /// The CSV log; nil: `directory`/log.csv.
    public var logPath: String?
    /// End this session after this step with a resumable checkpoint; nil: run to maxSteps.
    public var stopAfter: Int?
    /// The lock on `directory`, when the caller took it before loading the run (so a second
    /// trainer is refused before it loads anything); nil: the session takes it.
    public var lock: CheckpointLock?

    /// Where to write; by default the log goes into `directory` and the session runs to maxSteps.
    public init(directory: String, logPath: String? = nil, stopAfter: Int? = nil, lock: CheckpointLock? = nil) {
        self.directory = directory
        self.logPath = logPath
        self.stopAfter = stopAfter
        self.lock = lock
    }
}

/// One optimizer step, as the step hook hears it.
public struct TrainingStepReport: Sendable {
    /// 1-based: the number of optimizer steps taken so far.
    public let step: Int
    /// Its loss, gradient norm and learning rate.
    public let stats: StepStats
    /// Wall-clock seconds of the step itself (evaluation, samples and checkpoints excluded).
    public let seconds: Double
    /// Tokens per optimizer step: batch size × context length × micro-batches.
    public let tokens: Int
}

/// The loss estimates of an evaluation (every evalInterval steps, and at maxSteps).
public struct TrainingEvaluation: Sendable, Equatable {
    /// The step the evaluation followed.
    public let step: Int
    /// The mean loss over the fixed training-split batches.
    public let trainLoss: Float
    /// The mean loss over the fixed validation batches.
    public let validationLoss: Float
    /// Whether this is the lowest validation loss so far (the model was saved to `best/`).
    public let isBest: Bool
}

/// Why a checkpoint was written.
public enum CheckpointReason: Sendable, Equatable {
    /// Every `checkpointInterval` steps.
    case interval(Int)
    /// The interrupt hook asked the run to stop.
    case interrupted
    /// The session reached `TrainingOutput.stopAfter` before maxSteps.
    case stopAfter
    /// The run reached maxSteps.
    case final
    /// The run stops on an error that left the model consistent (a token file that can no longer
    /// be read, a log or sample that cannot be written): the last completed step is saved before
    /// the error is thrown.
    case stoppedByError
}

/// The calls a training loop makes as it goes; every one is optional.
public struct TrainingHooks {
    /// After each optimizer step.
    public var step: (TrainingStepReport) -> Void = { _ in }
    /// After each evaluation.
    public var evaluation: (TrainingEvaluation) -> Void = { _ in }
    /// After each text sample, with the step and the prompt followed by its continuation.
    public var sample: (_ step: Int, _ text: String) -> Void = { _, _ in }
    /// After each checkpoint: the step, why, and the directory.
    public var checkpoint: (_ step: Int, _ reason: CheckpointReason, _ directory: String) -> Void = { _, _, _ in }
    /// Asked after each step (once its evaluation and sample are done): true saves a resumable
    /// checkpoint and ends the session.
    public var interrupt: () -> Bool = { false }
    /// Before the first step, once per interrupted save the session finished or undid when it
    /// took the output directory's lock (see `CheckpointLock.recovered`).
    public var recovered: (_ note: String) -> Void = { _ in }

    /// Hooks that do nothing and never interrupt.
    public init() {}
}

/// What one `train` session did.
public struct TrainingSummary: Sendable, Equatable {
    /// Optimizer steps taken in this session (a resumed run counts from where it resumed).
    public let steps: Int
    /// The step the run stands at now.
    public let lastStep: Int
    /// Whether the interrupt hook ended the session.
    public let interrupted: Bool
    /// The validation loss of the session's last evaluation, if it made one.
    public let finalValidationLoss: Float?
    /// Seconds spent in optimizer steps (what tokens per second are measured against).
    public let trainingSeconds: Double
    /// Wall-clock seconds of the whole session.
    public let wallSeconds: Double
    /// Tokens per optimizer step.
    public let tokensPerStep: Int
    /// The checkpoint directory.
    public let directory: String
}
