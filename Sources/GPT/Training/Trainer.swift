// Trainer: one optimizer step = zero gradients, forward and backward over each micro-batch
// (gradients accumulate, each scaled by 1/k, so they equal one big batch's), global-norm clipping,
// AdamW at the scheduled learning rate. Evaluation runs the forward only. Under data parallelism
// (DataParallelism.swift) each rank runs its rows of every micro-batch, its gradients are summed
// with the other ranks' while the last micro-batch's backward runs (each scaled by a further 1/N),
// and clipping sees the norm of the global gradient; losses are averaged over the ranks.

import Compute
import Distributed

/// What one optimizer step measured.
public struct StepStats: Equatable, Sendable {
    /// The mean loss over the step's micro-batches (and, data-parallel, over the ranks).
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
    /// AdamW over the model's parameters (with ZeRO-1, over this rank's shard of them).
    public let optimizer: AdamW
    /// The ranks it trains with.
    public let parallelism: DataParallelism
    /// Optimizer steps taken.
    public var step: Int { optimizer.step }
    private let normResult: Buffer
    /// nil in a single process.
    private let reducer: GradientReducer?

    /// A trainer for `model`, with fresh AdamW moments (sharded with ZeRO-1).
    public init(model: GPTModel, settings: TrainingSettings, parallelism: DataParallelism = .singleProcess) throws {
        self.model = model
        self.settings = settings
        self.parallelism = parallelism
        reducer = parallelism.isDistributed ? try GradientReducer(model: model, parallelism: parallelism) : nil
        optimizer = try AdamW(layout: model.layout, backend: model.backend, hyperparameters: settings.adamW,
                              owned: reducer?.ownedRanges)
        normResult = try model.backend.allocate(1, .float32)
    }

    /// This rank's communication so far (nil in a single process).
    public var communication: CommunicationStats? { reducer?.stats }

    /// Starts counting communication afresh.
    public func resetCommunicationStats() { reducer?.resetStats() }

    /// Host memory the data-parallel reduction adds (staging copies of device buffers).
    public var communicationHostBytes: Int { reducer?.hostBytes ?? 0 }

    /// One optimizer step on a (B, T) batch. Dropout masks come from (seed, step).
    public func trainStep(tokens: [Int32], targets: [Int32], batch: Int, length: Int,
                          firstSequence: Int = 0) throws -> StepStats {
        try trainStep(microBatches: [(tokens, targets)], batch: batch, length: length, firstSequence: firstSequence)
    }

    /// One optimizer step on k micro-batches of (B, T) each (gradient accumulation); the loss is
    /// their mean. Dropout masks come from (seed, step, micro-batch index). Data-parallel, each
    /// micro-batch is this rank's rows of the global one, starting at sequence `firstSequence`.
    public func trainStep(microBatches: [(tokens: [Int32], targets: [Int32])], batch: Int,
                          length: Int, firstSequence: Int = 0) throws -> StepStats {
        guard !microBatches.isEmpty else { throw ModelError.shape("a training step needs at least one micro-batch") }
        try model.zeroGradients()
        let lossScale = 1 / Float(microBatches.count * parallelism.size)
        var lossSum = 0.0
        for (index, micro) in microBatches.enumerated() {
            let dropoutSeed = CounterRNG.seed(settings.seed, UInt64(step), UInt64(index))
            let loss = try model.forward(tokens: micro.tokens, targets: micro.targets, batch: batch, length: length,
                                         training: true, dropoutSeed: dropoutSeed, firstSequence: firstSequence) ?? 0
            // The last micro-batch's backward completes the gradients: their reduction starts then.
            let isLast = index == microBatches.count - 1
            try model.backward(lossScale: lossScale, stageFinished: isLast ? reducer.map { reducer in
                { try reducer.stageFinished($0) }
            } : nil)
            lossSum += Double(loss)
        }
        var meanLoss = lossSum / Double(microBatches.count)
        let squaredNorm: Double
        if let reducer {
            try reducer.finishGradients()
            meanLoss = try reducer.allReduce([meanLoss], label: "all-reduce of the step's loss")[0]
                / Double(parallelism.size)
            squaredNorm = try reducer.squaredGradientNorm()
        } else {
            try model.backend.squaredNorm(result: normResult.all, input: model.gradients.all)
            squaredNorm = Double(try model.backend.download(normResult.all)[0])
        }
        let norm = Float(squaredNorm).squareRoot()
        var scale: Float = 1
        if settings.gradientClip > 0 && norm > settings.gradientClip { scale = settings.gradientClip / norm }
        let rate = settings.schedule.rate(at: step)
        try optimizer.update(parameters: model.parameters, gradients: model.gradients, learningRate: rate,
                             gradientScale: scale)
        try reducer?.gatherParameters()
        reducer?.endStep()
        return StepStats(loss: Float(meanLoss), gradientNorm: norm, learningRate: rate)
    }

    /// Mean loss over `batches` (each B*T tokens and targets), without dropout or gradients;
    /// data-parallel, each is this rank's rows and the result the mean over the ranks.
    public func evaluate(_ batches: [(tokens: [Int32], targets: [Int32])], batch: Int, length: Int) throws -> Float {
        guard !batches.isEmpty else { return .nan }
        var sum = 0.0
        for item in batches {
            sum += Double(try model.forward(tokens: item.tokens, targets: item.targets, batch: batch,
                                            length: length) ?? 0)
        }
        var mean = sum / Double(batches.count)
        if parallelism.isDistributed {
            mean = try parallelism.communicator.allReduce([mean], .sum, label: "all-reduce of the evaluation loss")[0]
                / Double(parallelism.size)
        }
        return Float(mean)
    }

    /// AdamW's moments laid out like the parameters, for a checkpoint. With ZeRO-1 every rank's
    /// shard is gathered: a collective, so every rank calls it together.
    public func optimizerMoments() throws -> (first: [Float], second: [Float]) {
        let backend = model.backend
        let first = try backend.download(optimizer.firstMoment.all), second = try backend.download(optimizer.secondMoment.all)
        guard let reducer, parallelism.shardsOptimizerState else { return (first, second) }
        return (try reducer.gatherMoment(first, owned: optimizer.owned),
                try reducer.gatherMoment(second, owned: optimizer.owned))
    }
}
