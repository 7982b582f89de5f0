// Trainer: one optimizer step = zero gradients, forward and backward over each micro-batch
// (gradients accumulate, each scaled by 1/k, so they equal one big batch's), global-norm clipping,
// AdamW at the scheduled learning rate. Evaluation runs the forward only.

import Compute

/// What one optimizer step measured.
public struct StepStats: Equatable, Sendable {
    /// The mean loss over the step's micro-batches.
    public var loss: Float
    /// Global gradient norm before clipping.
    public var gradientNorm: Float
    /// The scheduled learning rate the step used.
    public var learningRate: Float
}

/// Optimizer steps on a model: forward and backward over micro-batches, clipping, AdamW.
public final class Trainer {
    /// The model it trains (its parameters change in place).
    public let model: GPTModel
    /// What the trainer reads: seed, gradient clip, schedule; the optimizer took its constants.
    public let settings: TrainingSettings
    /// AdamW over the model's parameters.
    public let optimizer: AdamW
    /// Optimizer steps taken.
    public var step: Int { optimizer.step }
    private let normResult: Buffer

    /// A trainer for `model`, with fresh AdamW moments.
    public init(model: GPTModel, settings: TrainingSettings) throws {
        self.model = model
        self.settings = settings
        optimizer = try AdamW(layout: model.layout, backend: model.backend, hyperparameters: settings.adamW)
        normResult = try model.backend.allocate(1, .float32)
    }

    /// One optimizer step on a (B, T) batch. Dropout masks come from (seed, step).
    public func trainStep(tokens: [Int32], targets: [Int32], batch: Int, length: Int) throws -> StepStats {
        try trainStep(microBatches: [(tokens, targets)], batch: batch, length: length)
    }

    /// One optimizer step on k micro-batches of (B, T) each (gradient accumulation); the loss is
    /// their mean. Dropout masks come from (seed, step, micro-batch index).
    public func trainStep(microBatches: [(tokens: [Int32], targets: [Int32])], batch: Int,
                          length: Int) throws -> StepStats {
        guard !microBatches.isEmpty else { throw ModelError.shape("a training step needs at least one micro-batch") }
        let backend = model.backend
        try model.zeroGradients()
        let lossScale = 1 / Float(microBatches.count)
        var lossSum = 0.0
        for (index, micro) in microBatches.enumerated() {
            let dropoutSeed = CounterRNG.seed(settings.seed, UInt64(step), UInt64(index))
            let loss = try model.forward(tokens: micro.tokens, targets: micro.targets, batch: batch, length: length,
                                         training: true, dropoutSeed: dropoutSeed) ?? 0
            try model.backward(lossScale: lossScale)
            lossSum += Double(loss)
        }
        let loss = Float(lossSum / Double(microBatches.count))

        try backend.squaredNorm(result: normResult.all, input: model.gradients.all)
        let norm = (try backend.download(normResult.all)[0]).squareRoot()
        var scale: Float = 1
        if settings.gradientClip > 0 && norm > settings.gradientClip { scale = settings.gradientClip / norm }
        let rate = settings.schedule.rate(at: step)
        try optimizer.update(parameters: model.parameters, gradients: model.gradients, learningRate: rate,
                             gradientScale: scale)
        return StepStats(loss: loss, gradientNorm: norm, learningRate: rate)
    }

    /// Mean loss over `batches` (each B*T tokens and targets), without dropout or gradients.
    public func evaluate(_ batches: [(tokens: [Int32], targets: [Int32])], batch: Int, length: Int) throws -> Float {
        guard !batches.isEmpty else { return .nan }
        var sum = 0.0
        for item in batches {
            sum += Double(try model.forward(tokens: item.tokens, targets: item.targets, batch: batch,
                                            length: length) ?? 0)
        }
        return Float(sum / Double(batches.count))
    }
}
