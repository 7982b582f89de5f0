// Every setting of a training run that is not the architecture, with its default: the one place
// the defaults live. Run configs (RunConfig.swift) start from `TrainingSettings()`, the CLI's flags
// print these defaults in their help, and the trainer, optimizer and schedule read their parts.

/// Everything about a training run that is not the architecture. Field names are the keys of a
/// run config's "training" section.
public struct TrainingSettings: Codable, Equatable, Sendable {
    /// B: sequences per micro-batch.
    public var batchSize = 12
    /// Micro-batches per optimizer step (gradient accumulation).
    public var gradientAccumulation = 1
    /// Peak learning rate, reached at the end of warmup.
    public var learningRate: Float = 1e-3
    /// Floor of the cosine decay; nil means learningRate / 10.
    public var minLearningRate: Float? = nil
    /// Steps of linear warmup before the cosine decay.
    public var warmupSteps = 100
    /// Optimizer steps of the whole run (the schedule spans them).
    public var maxSteps = 2000
    /// AdamW's decoupled weight decay, applied to 2-D weights only.
    public var weightDecay: Float = 0.1
    /// AdamW's decay rate of the first moment.
    public var beta1: Float = 0.9
    /// AdamW's decay rate of the second moment.
    public var beta2: Float = 0.99
    /// AdamW's term that keeps the update finite where the second moment is tiny.
    public var epsilon: Float = 1e-8
    /// Global gradient-norm clip; 0 disables clipping.
    public var gradientClip: Float = 1.0
    /// Overrides the model's dropout when set.
    public var dropout: Float? = nil
    /// Steps between evaluations of the train and validation loss (and the final step).
    public var evalInterval = 250
    /// Batches per loss estimate.
    public var evalBatches = 20
    /// Steps between checkpoints (0: only at the end and on the best validation loss).
    public var checkpointInterval = 0
    /// Steps between text samples (0: none).
    public var sampleInterval = 0
    /// The text samples continue.
    public var samplePrompt = "\n"
    /// Tokens per sample.
    public var sampleTokens = 200
    /// Seeds the initial parameters, the batch stream and the dropout masks.
    public var seed: UInt64 = 1337
    /// The backend's name for a registry (`auto`: the best available).
    public var backend = "auto"
    /// The backend's device (an OpenCL device index or name substring); nil: its default.
    public var device: String? = nil

    /// The defaults.
    public init() {}

    /// The learning rate of every step: warmup, then cosine decay to the floor at `maxSteps`.
    public var schedule: LearningRateSchedule {
        LearningRateSchedule(peak: learningRate, minimum: minLearningRate ?? learningRate / 10,
                             warmupSteps: warmupSteps, totalSteps: maxSteps)
    }

    /// The optimizer's part of the settings.
    public var adamW: AdamWHyperparameters {
        AdamWHyperparameters(beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
    }

    /// Throws a one-line error naming the first value out of its range.
    public func validate() throws {
        func fail(_ reason: String) -> RunConfigError { RunConfigError("training.\(reason)") }
        if batchSize < 1 { throw fail("batchSize must be at least 1, got \(batchSize)") }
        if gradientAccumulation < 1 { throw fail("gradientAccumulation must be at least 1, got \(gradientAccumulation)") }
        if !(learningRate >= 0) { throw fail("learningRate must be at least 0, got \(learningRate)") }
        if let minimum = minLearningRate, !(minimum >= 0) { throw fail("minLearningRate must be at least 0, got \(minimum)") }
        if let minimum = minLearningRate, minimum > learningRate {
            throw fail("minLearningRate must not be above learningRate (the decay's floor), got \(minimum) > \(learningRate)")
        }
        if warmupSteps < 0 { throw fail("warmupSteps must be at least 0, got \(warmupSteps)") }
        if maxSteps < 1 { throw fail("maxSteps must be at least 1, got \(maxSteps)") }
        if !(weightDecay >= 0) { throw fail("weightDecay must be at least 0, got \(weightDecay)") }
        if !(0..<1).contains(beta1) || !(0..<1).contains(beta2) { throw fail("beta1 and beta2 must be in [0, 1), got \(beta1) and \(beta2)") }
        if !(epsilon > 0) { throw fail("epsilon must be positive, got \(epsilon)") }
        if !(gradientClip >= 0) { throw fail("gradientClip must be at least 0, got \(gradientClip)") }
        if let dropout, !(0..<1).contains(dropout) { throw fail("dropout must be in [0, 1), got \(dropout)") }
        if evalInterval < 1 { throw fail("evalInterval must be at least 1, got \(evalInterval)") }
        if evalBatches < 1 { throw fail("evalBatches must be at least 1, got \(evalBatches)") }
        if checkpointInterval < 0 { throw fail("checkpointInterval must be at least 0, got \(checkpointInterval)") }
        if sampleInterval < 0 { throw fail("sampleInterval must be at least 0, got \(sampleInterval)") }
        if sampleTokens < 0 { throw fail("sampleTokens must be at least 0, got \(sampleTokens)") }
        // Counts from a file get the flags' bound, so no product of them can overflow.
        let counts: [(String, Int)] = [
            ("batchSize", batchSize), ("gradientAccumulation", gradientAccumulation), ("warmupSteps", warmupSteps),
            ("maxSteps", maxSteps), ("evalInterval", evalInterval), ("evalBatches", evalBatches),
            ("checkpointInterval", checkpointInterval), ("sampleInterval", sampleInterval), ("sampleTokens", sampleTokens),
        ]
        if let (key, value) = counts.first(where: { $0.1 > CheckedSize.countLimit }) {
            throw fail("\(key) must be at most \(CheckedSize.countLimit), got \(value)")
        }
    }
}
