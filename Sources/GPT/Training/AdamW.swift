// AdamW over the flat parameter buffer: moments in two more flat buffers; decoupled weight decay
// on 2-D weights only (the layout marks which); fixed tensors (sinusoidal tables) never move.

import Compute

/// AdamW's constants. Their defaults live in `TrainingSettings` (its `adamW`).
public struct AdamWHyperparameters: Codable, Equatable, Sendable {
    /// Decay rate of the first moment (the gradients' running mean).
    public var beta1: Float
    /// Decay rate of the second moment (the squared gradients' running mean).
    public var beta2: Float
    /// Keeps the update finite where the second moment is tiny.
    public var epsilon: Float
    /// Decoupled weight decay for the parameters the layout marks as decaying (2-D weights).
    public var weightDecay: Float

    /// The constants, spelled out (`TrainingSettings().adamW` gives the defaults).
    public init(beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }
}

/// AdamW with decoupled weight decay over a model's flat parameter buffer.
public final class AdamW {
    /// The optimizer's constants.
    public let hyperparameters: AdamWHyperparameters
    /// m, laid out like the parameters.
    public let firstMoment: Buffer
    /// v, laid out like the parameters.
    public let secondMoment: Buffer
    /// Steps taken (bias correction uses step + 1 on the next update).
    public private(set) var step = 0
    private let backend: any Backend
    /// Contiguous parameter ranges updated with one launch each: (offset, count, decays).
    private let groups: [(offset: Int, count: Int, decay: Bool)]

    /// An optimizer for parameters laid out as `layout`, its moments zero on `backend`.
    public init(layout: ParameterLayout, backend: any Backend, hyperparameters: AdamWHyperparameters) throws {
        self.hyperparameters = hyperparameters
        self.backend = backend
        firstMoment = try backend.allocate(layout.count, .float32)
        secondMoment = try backend.allocate(layout.count, .float32)
        try backend.fill(firstMoment.all, with: 0)
        try backend.fill(secondMoment.all, with: 0)
        // Merge neighbouring trainable entries with the same decay flag: fewer launches, same math.
        var groups: [(offset: Int, count: Int, decay: Bool)] = []
        for entry in layout.entries.sorted(by: { $0.offset < $1.offset }) where entry.trainable {
            if let lastGroup = groups.last, lastGroup.decay == entry.weightDecay,
               lastGroup.offset + lastGroup.count == entry.offset {
                groups[groups.count - 1].count += entry.count
            } else {
                groups.append((entry.offset, entry.count, entry.weightDecay))
            }
        }
        self.groups = groups
    }

    /// Puts the optimizer back where a saved run left it: `step` updates taken and both moments
    /// (each `layout.count` floats), so the next update is the one the saved run would have made.
    public func restore(step: Int, firstMoment m: [Float], secondMoment v: [Float]) throws {
        guard step >= 0 else { throw ModelError.shape("optimizer step must be >= 0, got \(step)") }
        try backend.upload(m, to: firstMoment.all)
        try backend.upload(v, to: secondMoment.all)
        self.step = step
    }

    /// One update of `parameters` from `gradients` (scaled by `gradientScale`, e.g. for clipping).
    public func update(parameters: Buffer, gradients: Buffer, learningRate: Float, gradientScale: Float) throws {
        step += 1
        let h = hyperparameters
        for group in groups {
            try backend.adamW(parameters: parameters.view(offset: group.offset, count: group.count),
                              gradients: gradients.view(offset: group.offset, count: group.count),
                              firstMoment: firstMoment.view(offset: group.offset, count: group.count),
                              secondMoment: secondMoment.view(offset: group.offset, count: group.count),
                              learningRate: learningRate, beta1: h.beta1, beta2: h.beta2, epsilon: h.epsilon,
                              weightDecay: group.decay ? h.weightDecay : 0, step: step,
                              gradientScale: gradientScale)
        }
    }
}
