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
