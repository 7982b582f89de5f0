// The learning-rate schedule at chosen steps, and AdamW's decoupled decay on 2-D weights only.

import Compute
import GPT
import ReferenceBackend
import Testing

@Suite("Optimizer and schedule")
struct OptimizerTests {
    @Test("warmup then cosine to the floor")
    func schedule() {
        let s = LearningRateSchedule(peak: 1e-3, minimum: 1e-4, warmupSteps: 10, totalSteps: 110)
        #expect(abs(s.rate(at: 0) - 1e-4) < 1e-9)
        #expect(abs(s.rate(at: 9) - 1e-3) < 1e-9)
        #expect(abs(s.rate(at: 10) - 1e-3) < 1e-9)
        #expect(abs(s.rate(at: 60) - 5.5e-4) < 1e-7)  // half way down the cosine
        #expect(abs(s.rate(at: 110) - 1e-4) < 1e-9)
        #expect(s.rate(at: 500) == s.minimum)
    }

    @Test("weight decay moves 2-D weights only; zero gradients leave norms and biases alone")
    func decayOnlyMatrices() throws {
        let config = Variant.all[0].config
        let backend = ReferenceBackend()
        let model = try GPTModel(config: config, backend: backend, seed: 2)
        var settings = TrainingSettings()
        settings.weightDecay = 0.5
        let optimizer = try AdamW(layout: model.layout, backend: backend, hyperparameters: settings.adamW)
        let before = try model.parameterValues()
        try model.zeroGradients()
        try optimizer.update(parameters: model.parameters, gradients: model.gradients, learningRate: 0.1,
                             gradientScale: 1)
        let after = try model.parameterValues()
        for entry in model.layout.entries {
            let i = entry.offset
            if entry.weightDecay {
                #expect(abs(after[i] - before[i] * (1 - 0.1 * 0.5)) < 1e-7, "\(entry.name) should decay")
            } else {
                #expect(after[i] == before[i], "\(entry.name) should not move")
            }
        }
    }
}

@Suite("Gradient accumulation")
struct AccumulationTests {
    @Test("two micro-batches of 2 give the gradients of one batch of 4")
    func accumulationMatchesOneBigBatch() throws {
        let config = Variant.all[0].config
        let data = randomBatch(vocab: config.vocabSize, batch: 4, length: 6, seed: 21)
        let half = 2 * 6
        let whole = try GPTModel(config: config, backend: ReferenceBackend(), seed: 3)
        try whole.zeroGradients()
        try whole.forward(tokens: data.tokens, targets: data.targets, batch: 4, length: 6)
        try whole.backward()
        let expected = try whole.gradientValues()

        let split = try GPTModel(config: config, backend: ReferenceBackend(), seed: 3)
        try split.zeroGradients()
        for range in [0..<half, half..<(2 * half)] {
            try split.forward(tokens: Array(data.tokens[range]), targets: Array(data.targets[range]), batch: 2, length: 6)
            try split.backward(lossScale: 0.5)
        }
        let accumulated = try split.gradientValues()
        let worst = zip(expected, accumulated).map { abs($0 - $1) / max(1e-3, abs($0)) }.max()!
        #expect(worst < 1e-4, "accumulated gradients differ from one big batch by \(worst) (relative)")
    }
}
