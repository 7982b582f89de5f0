// Sampler and Generator: greedy determinism, top-k, seeds, argument checks, the sliding window.

import Compute
import Foundation
import ReferenceBackend
import Testing
@testable import GPT

@Suite struct SamplerTests {
    static let logits: [Float] = [0.1, 2.0, -1.0, 2.0, 1.5, 0.0]

    @Test func greedyPicksTheFirstLargest() throws {
        var sampler = try Sampler(temperature: 0, seed: 1)
        #expect(try sampler.sample(Self.logits) == 1)
        #expect(try sampler.sample([-3, -2, -5]) == 1)
    }

    @Test func topKOneEqualsGreedyAtAnyTemperature() throws {
        var greedy = try Sampler(temperature: 0, seed: 1)
        var topOne = try Sampler(temperature: 5, topK: 1, seed: 99)
        var generator = SplitMix64(seed: 3)
        for _ in 0..<50 {
            let row = (0..<20).map { _ in Float(generator.nextNormal()) }
            #expect(try topOne.sample(row) == greedy.sample(row))
        }
    }

    @Test func topKOnlyDrawsFromTheKLargest() throws {
        var sampler = try Sampler(temperature: 10, topK: 3, seed: 4)
        let drawn = Set(try (0..<300).map { _ in try sampler.sample(Self.logits) })
        #expect(drawn == [1, 3, 4])
    }

    @Test func frequenciesFollowTheSoftmax() throws {
        var sampler = try Sampler(temperature: 1, seed: 11)
        var counts = [0, 0]
        for _ in 0..<20_000 { counts[Int(try sampler.sample([0, Float(log(3.0))]))] += 1 }
        #expect(abs(Double(counts[1]) / 20_000 - 0.75) < 0.02)
    }

    @Test func sameSeedSameDrawsDifferentSeedDifferentDraws() throws {
        func draws(_ seed: UInt64) throws -> [Int32] {
            var sampler = try Sampler(temperature: 1.5, topK: 5, seed: seed)
            return try (0..<64).map { _ in try sampler.sample(Self.logits) }
        }
        #expect(try draws(7) == draws(7))
        #expect(try draws(7) != draws(8))
    }

    @Test(arguments: [Float(-0.1), -1, .nan, .infinity])
    func temperatureMustBeFiniteAndNonNegative(temperature: Float) {
        #expect(throws: SamplerError.self) { try Sampler(temperature: temperature, seed: 1) }
    }

    @Test func topKMustBeNonNegative() {
        #expect(throws: SamplerError.invalidTopK(-1)) { try Sampler(temperature: 1, topK: -1, seed: 1) }
    }

    static func model() throws -> GPTModel {
        let config = ModelConfig(vocabSize: 7, contextLength: 4, layers: 1, heads: 2, embeddingDim: 8, ffnDim: 16)
        return try GPTModel(config: config, backend: ReferenceBackend(), seed: 3)
    }

    @Test func greedyGenerationIsDeterministicAndMatchesManualArgmax() throws {
        let model = try Self.model()
        var sampler = try Sampler(temperature: 0, seed: 1)
        var streamed: [Int32] = []
        let generated = try Generator(model: model).generate(prompt: [1, 2], maxTokens: 9, sampler: &sampler) {
            streamed.append($0)
        }
        #expect(generated.count == 9 && streamed == generated)
        var again = try Sampler(temperature: 0, seed: 2)
        #expect(try Generator(model: model).generate(prompt: [1, 2], maxTokens: 9, sampler: &again) == generated)

        // The window slides: token i is the argmax after the last 4 (context) tokens before it.
        let all: [Int32] = [1, 2] + generated
        for index in 2..<all.count {
            let window = Array(all[max(0, index - 4) ..< index])
            try model.forward(tokens: window, targets: nil, batch: 1, length: window.count)
            #expect(Int32(Sampler.argmax(try model.logits(row: window.count - 1))) == all[index])
        }
    }

    @Test func seededGenerationRepeatsAndRejectsBadArguments() throws {
        let model = try Self.model()
        func run(_ seed: UInt64) throws -> [Int32] {
            var sampler = try Sampler(temperature: 1, seed: seed)
            return try Generator(model: model).generate(prompt: [0], maxTokens: 12, sampler: &sampler)
        }
        #expect(try run(5) == run(5))
        var sampler = try Sampler(temperature: 1, seed: 1)
        #expect(throws: GenerationError.emptyPrompt) {
            try Generator(model: model).generate(prompt: [], maxTokens: 1, sampler: &sampler)
        }
        #expect(throws: GenerationError.negativeTokenCount(-1)) {
            try Generator(model: model).generate(prompt: [0], maxTokens: -1, sampler: &sampler)
        }
        #expect(try Generator(model: model).generate(prompt: [0], maxTokens: 0, sampler: &sampler) == [])
    }
}

@Suite struct NucleusAndPenaltyTests {
    @Test func tinyTopPEqualsGreedy() throws {
        var greedy = try Sampler(temperature: 0, seed: 1)
        var nucleus = try Sampler(temperature: 2, topP: 1e-6, seed: 5)
        var generator = SplitMix64(seed: 8)
        for _ in 0..<50 {
            let row = (0..<30).map { _ in Float(generator.nextNormal()) }
            #expect(try nucleus.sample(row) == greedy.sample(row))
        }
    }

    @Test func topPKeepsTheSmallestSetReachingP() throws {
        // Probabilities 0.5, 0.3, 0.2 (temperature 1): top-p 0.7 keeps the first two only.
        let row = [Float(log(0.5)), Float(log(0.3)), Float(log(0.2))]
        var sampler = try Sampler(temperature: 1, topP: 0.7, seed: 2)
        let drawn = Set(try (0..<400).map { _ in try sampler.sample(row) })
        #expect(drawn == [0, 1])
    }

    @Test func repetitionPenaltyLowersRepeatedTokens() throws {
        let row: [Float] = [1.0, 1.0, -1.0, -1.0]
        func frequency(of token: Int32, penalty: Float, recent: [Int32]) throws -> Double {
            var sampler = try Sampler(temperature: 1, repetitionPenalty: penalty, seed: 3)
            var hits = 0
            for _ in 0..<10_000 where try sampler.sample(row, recent: recent) == token { hits += 1 }
            return Double(hits) / 10_000
        }
        // A positive and a negative logit both become less likely once seen.
        #expect(try frequency(of: 0, penalty: 2, recent: [0]) < frequency(of: 0, penalty: 1, recent: [0]) - 0.05)
        #expect(try frequency(of: 2, penalty: 2, recent: [2]) < frequency(of: 2, penalty: 1, recent: [2]) - 0.02)
        // Greedy flips to the unpenalised tie partner.
        var greedy = try Sampler(temperature: 0, repetitionPenalty: 1.5, seed: 1)
        #expect(try greedy.sample(row, recent: [0]) == 1)
    }

    @Test(arguments: [Float(0), -0.5, 1.5, .nan])
    func badTopPIsRefused(value: Float) {
        #expect(throws: SamplerError.self) { try Sampler(temperature: 1, topP: value, seed: 1) }
    }

    @Test(arguments: [Float(0.5), 0, .infinity])
    func badPenaltyIsRefused(value: Float) {
        #expect(throws: SamplerError.self) { try Sampler(temperature: 1, repetitionPenalty: value, seed: 1) }
    }
}
