// Picks the next token from a row of logits: greedy (temperature 0), or a seeded draw from
// softmax(logits / temperature), optionally restricted to the k most likely tokens.

import Compute
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum SamplerError: Error, CustomStringConvertible, Equatable {
    case invalidTemperature(Float)
    case invalidTopK(Int)
    case emptyLogits

    public var description: String {
        switch self {
        case let .invalidTemperature(value): return "temperature must be a finite number >= 0, got \(value)"
        case let .invalidTopK(value): return "top-k must be >= 0 (0 keeps every token), got \(value)"
        case .emptyLogits: return "cannot sample from an empty row of logits"
        }
    }
}

public struct Sampler {
    /// 0 means greedy: always the argmax.
    public let temperature: Float
    /// Keep only the k highest logits before sampling; 0 keeps all.
    public let topK: Int
    private var generator: SplitMix64

    public init(temperature: Float, topK: Int = 0, seed: UInt64) throws {
        guard temperature.isFinite, temperature >= 0 else { throw SamplerError.invalidTemperature(temperature) }
        guard topK >= 0 else { throw SamplerError.invalidTopK(topK) }
        self.temperature = temperature
        self.topK = topK
        generator = SplitMix64(seed: seed)
    }

    /// The next token id for one row of V logits.
    ///   p_i = exp((l_i - max) / temperature) / sum_j exp((l_j - max) / temperature), over the
    ///   top-k candidates; ties keep the lower id first. Probabilities are summed in Double.
    public mutating func sample(_ logits: [Float]) throws -> Int32 {
        guard !logits.isEmpty else { throw SamplerError.emptyLogits }
        if temperature == 0 { return Int32(Self.argmax(logits)) }

        var candidates = Array(logits.indices)
        if topK > 0 && topK < logits.count {
            candidates.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
            candidates.removeSubrange(topK...)
        }
        let maximum = Double(candidates.map { logits[$0] }.max()!)
        let weights = candidates.map { exp((Double(logits[$0]) - maximum) / Double(temperature)) }
        let total = weights.reduce(0, +)
        var threshold = generator.nextUniform() * total
        for (candidate, weight) in zip(candidates, weights) {
            threshold -= weight
            if threshold < 0 { return Int32(candidate) }
        }
        return Int32(candidates[weights.lastIndex { $0 > 0 } ?? 0])  // rounding left a sliver
    }

    /// Index of the largest value (the first one on ties).
    static func argmax(_ values: [Float]) -> Int {
        var best = 0
        for index in values.indices where values[index] > values[best] { best = index }
        return best
    }
}
