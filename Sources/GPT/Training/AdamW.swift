// AdamW over the flat parameter buffer: moments in two more flat buffers; decoupled weight decay
// on 2-D weights only (the layout marks which); fixed tensors (sinusoidal tables) never move.
// Sharded (ZeRO-1), it keeps moments for some ranges of the buffer only and updates only those.

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

/// AdamW with decoupled weight decay over a model's flat parameter buffer, or over a shard of it
/// (ZeRO stage 1: a data-parallel rank keeps moments only for the ranges it updates).
public final class AdamW {
    /// The optimizer's constants.
    public let hyperparameters: AdamWHyperparameters
    /// m: laid out like the parameters, or the owned ranges packed one after another.
    public let firstMoment: Buffer
    /// v, laid out like `firstMoment`.
    public let secondMoment: Buffer
    /// The ranges of the flat parameter buffer this optimizer updates and keeps moments for, in
    /// order (the whole buffer unless sharded).
    public let owned: [Range<Int>]
    /// Steps taken (bias correction uses step + 1 on the next update).
    public private(set) var step = 0
    private let backend: any Backend
    private let parameterCount: Int
    /// Contiguous parameter ranges updated with one launch each: (offset, count, decays, and where
    /// their moments start).
    private let groups: [(offset: Int, count: Int, decay: Bool, momentOffset: Int)]

    /// An optimizer for parameters laid out as `layout`, its moments zero on `backend`. `owned`
    /// (sorted, disjoint ranges) shards it: moments for those elements only, updates of those only.
    public init(layout: ParameterLayout, backend: any Backend, hyperparameters: AdamWHyperparameters,
                owned: [Range<Int>]? = nil) throws {
        self.hyperparameters = hyperparameters
        self.backend = backend
        parameterCount = layout.count
        let owned = owned ?? [0..<layout.count]
        guard zip(owned, owned.dropFirst()).allSatisfy({ $0.upperBound <= $1.lowerBound }),
              owned.allSatisfy({ $0.lowerBound >= 0 && $0.upperBound <= layout.count }) else {
            throw ModelError.shape("optimizer shard \(owned) is not sorted, disjoint ranges of 0..<\(layout.count)")
        }
        self.owned = owned
        let momentCount = owned.reduce(0) { $0 + $1.count }
        firstMoment = try backend.allocate(momentCount, .float32)
        secondMoment = try backend.allocate(momentCount, .float32)
        try backend.fill(firstMoment.all, with: 0)
        try backend.fill(secondMoment.all, with: 0)
        groups = Self.groups(layout: layout, owned: owned)
    }

    /// Neighbouring trainable entries with the same decay flag merged (fewer launches, same math),
    /// cut to the owned ranges.
    private static func groups(layout: ParameterLayout, owned: [Range<Int>])
        -> [(offset: Int, count: Int, decay: Bool, momentOffset: Int)] {
        var merged: [(range: Range<Int>, decay: Bool)] = []
        for entry in layout.entries.sorted(by: { $0.offset < $1.offset }) where entry.trainable {
            let range = entry.offset..<(entry.offset + entry.count)
            if let last = merged.last, last.decay == entry.weightDecay, last.range.upperBound == range.lowerBound {
                merged[merged.count - 1].range = last.range.lowerBound..<range.upperBound
            } else {
                merged.append((range, entry.weightDecay))
            }
        }
        var groups: [(offset: Int, count: Int, decay: Bool, momentOffset: Int)] = []
        var momentStart = 0
        for range in owned {
            for group in merged where group.range.overlaps(range) {
                let part = group.range.clamped(to: range)
                groups.append((part.lowerBound, part.count, group.decay, momentStart + part.lowerBound - range.lowerBound))
            }
            momentStart += range.count
        }
        return groups
    }

    /// Puts the optimizer back where a saved run left it: `step` updates taken and both moments
    /// (each laid out like the parameters, `layout.count` floats; a sharded optimizer keeps its
    /// ranges of them), so the next update is the one the saved run would have made.
    public func restore(step: Int, firstMoment m: [Float], secondMoment v: [Float]) throws {
        guard step >= 0 else { throw ModelError.shape("optimizer step must be >= 0, got \(step)") }
        guard m.count == parameterCount, v.count == parameterCount else {
            throw ModelError.shape("expected \(parameterCount) moment values, got \(m.count) and \(v.count)")
        }
        try backend.upload(owned.flatMap { m[$0] }, to: firstMoment.all)
        try backend.upload(owned.flatMap { v[$0] }, to: secondMoment.all)
        self.step = step
    }

    /// One update of `parameters` from `gradients` (scaled by `gradientScale`, e.g. for clipping).
    public func update(parameters: Buffer, gradients: Buffer, learningRate: Float, gradientScale: Float) throws {
        step += 1
        let h = hyperparameters
        for group in groups {
            try backend.adamW(parameters: parameters.view(offset: group.offset, count: group.count),
                              gradients: gradients.view(offset: group.offset, count: group.count),
                              firstMoment: firstMoment.view(offset: group.momentOffset, count: group.count),
                              secondMoment: secondMoment.view(offset: group.momentOffset, count: group.count),
                              learningRate: learningRate, beta1: h.beta1, beta2: h.beta2, epsilon: h.epsilon,
                              weightDecay: group.decay ? h.weightDecay : 0, step: step,
                              gradientScale: gradientScale)
        }
    }
}
