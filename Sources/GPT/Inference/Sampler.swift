// Picks the next token from a row of logits: greedy (temperature 0), or a seeded draw from
// softmax(logits / temperature), optionally restricted to the k most likely tokens and to the
// smallest set whose probability reaches top-p (nucleus). A repetition penalty first makes tokens
// seen in the recent window less likely (the CTRL form: positive logits divided by the penalty,
// negative ones multiplied by it).

import Compute
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sampling settings out of range.
public enum SamplerError: Error, CustomStringConvertible, Equatable {
    /// Not a finite number >= 0.
    case invalidTemperature(Float)
    /// Negative.
    case invalidTopK(Int)
    /// Not in (0, 1].
    case invalidTopP(Float)
    /// Not a finite number >= 1.
    case invalidRepetitionPenalty(Float)
    /// A row of no logits.
    case emptyLogits

    public var description: String {
        func text(_ value: Float) -> String {  // "0", not Swift's "0.0": as the user typed it
            value.description.hasSuffix(".0") ? String(value.description.dropLast(2)) : value.description
        }
        switch self {
        case let .invalidTemperature(value): return "temperature must be a number of at least 0, got \(text(value))"
        case let .invalidTopK(value): return "top-k must be at least 0 (0 keeps every token), got \(value)"
        case let .invalidTopP(value): return "top-p must be in (0, 1] (1 keeps every token), got \(text(value))"
        case let .invalidRepetitionPenalty(value):
            return "repetition penalty must be a number of at least 1 (1 is off), got \(text(value))"
        case .emptyLogits: return "cannot sample from an empty row of logits"
        }
    }
}

/// Picks next tokens from logits: greedy, or a seeded draw after temperature, top-k, top-p and
/// the repetition penalty.
public struct Sampler {
    /// 0 means greedy: always the argmax.
    public let temperature: Float
    /// Keep only the k highest logits before sampling; 0 keeps all.
    public let topK: Int
    /// Keep the most likely tokens until their probability reaches topP; 1 keeps all.
    public let topP: Float
    /// >= 1; 1 turns the penalty off.
    public let repetitionPenalty: Float
    private var generator: SplitMix64

    /// A sampler whose draws come from `seed`; throws `SamplerError` for settings out of range.
    public init(temperature: Float, topK: Int = 0, topP: Float = 1, repetitionPenalty: Float = 1,
                seed: UInt64) throws {
        guard temperature.isFinite, temperature >= 0 else { throw SamplerError.invalidTemperature(temperature) }
        guard topK >= 0 else { throw SamplerError.invalidTopK(topK) }
        guard topP > 0, topP <= 1 else { throw SamplerError.invalidTopP(topP) }
        guard repetitionPenalty.isFinite, repetitionPenalty >= 1 else {
            throw SamplerError.invalidRepetitionPenalty(repetitionPenalty)
        }
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.repetitionPenalty = repetitionPenalty
        generator = SplitMix64(seed: seed)
    }

    /// The next token id for one row of V logits.
    ///   p_i = exp((l_i - max) / temperature) / sum_j exp((l_j - max) / temperature), over the
    ///   top-k candidates, then the top-p nucleus; ties keep the lower id first. Probabilities are
    ///   summed in Double. `recent` holds the tokens the repetition penalty applies to.
    public mutating func sample(_ rawLogits: [Float], recent: [Int32] = []) throws -> Int32 {
        guard !rawLogits.isEmpty else { throw SamplerError.emptyLogits }
        var logits = rawLogits
        if repetitionPenalty != 1 {
            for token in Set(recent) where logits.indices.contains(Int(token)) {
                let value = logits[Int(token)]
                logits[Int(token)] = value > 0 ? value / repetitionPenalty : value * repetitionPenalty
            }
        }
        if temperature == 0 { return Int32(Self.argmax(logits)) }

        var candidates = Array(logits.indices)
        let narrowing = (topK > 0 && topK < logits.count) || topP < 1
        if narrowing {
            candidates.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        }
        if topK > 0 && topK < logits.count { candidates.removeSubrange(topK...) }
        let maximum = Double(candidates.map { logits[$0] }.max()!)
        var weights = candidates.map { exp((Double(logits[$0]) - maximum) / Double(temperature)) }
        if topP < 1 {
            // Candidates are sorted by probability: keep the shortest prefix reaching topP.
            let total = weights.reduce(0, +)
            var cumulative = 0.0, keep = 0
            while keep < weights.count {
                cumulative += weights[keep] / total
                keep += 1
                if cumulative >= Double(topP) { break }
            }
            candidates.removeSubrange(keep...)
            weights.removeSubrange(keep...)
        }
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
