// Whole-model finite-difference gradient checks, one per architecture variant, on the reference
// backend. The loss is a Float computed by the reference (Double accumulation inside each op), so
// central differences with eps = 1e-3 carry ~1e-4 round-off (a larger step is not an option: at init
// the residual stream is ~0.02 in size, so RMSNorm is far from linear over a 1e-2 bias step); a
// gradient passes when
// |fd - analytic| <= 2e-3 + 5e-2 * |analytic|. Dropout is on where the variant has it: the same
// dropout seed gives the same mask in every forward, so the loss is a smooth function of the weights.

import Compute
import GPT
import ReferenceBackend
import Testing

@Suite("Model gradients")
struct ModelGradientTests {
    @Test("finite differences match backward", arguments: Variant.all)
    func finiteDifferences(variant: Variant) throws {
        let backend = ReferenceBackend()
        let model = try GPTModel(config: variant.config, backend: backend, seed: 7)
        let (batch, length) = (2, 5)
        let data = randomBatch(vocab: variant.config.vocabSize, batch: batch, length: length, seed: 11)
        let training = variant.config.dropout > 0
        func loss() throws -> Double {
            Double(try model.forward(tokens: data.tokens, targets: data.targets, batch: batch, length: length,
                                     training: training, dropoutSeed: 99)!)
        }
        try model.zeroGradients()
        _ = try loss()
        try model.backward()
        let analytic = try model.gradientValues()
        var parameters = try model.parameterValues()

        // Every tensor gets checked: its largest-gradient element plus two seeded random ones.
        var rng = SplitMix64(seed: 5)
        var checked = 0
        let eps: Float = 1e-3
        for entry in model.layout.entries where entry.trainable {
            let range = entry.offset..<(entry.offset + entry.count)
            let largest = range.max { abs(analytic[$0]) < abs(analytic[$1]) }!
            let picks = [largest, range.lowerBound + Int(rng.next() % UInt64(entry.count)),
                         range.lowerBound + Int(rng.next() % UInt64(entry.count))]
            for index in picks {
                let saved = parameters[index]
                parameters[index] = saved + eps
                try model.loadParameterValues(parameters)
                let plus = try loss()
                parameters[index] = saved - eps
                try model.loadParameterValues(parameters)
                let minus = try loss()
                parameters[index] = saved
                let fd = (plus - minus) / (2 * Double(eps))
                let an = Double(analytic[index])
                #expect(abs(fd - an) <= 2e-3 + 5e-2 * abs(an),
                        "\(variant.name): \(entry.name)[\(index - entry.offset)] fd \(fd) vs backward \(an)")
                checked += 1
            }
        }
        try model.loadParameterValues(parameters)
        #expect(checked >= 3 * model.layout.entries.filter(\.trainable).count)
    }

    @Test("fixed sinusoidal table gets no gradient and never moves")
    func sinusoidalIsFixed() throws {
        let config = Variant.all[1].config
        let model = try GPTModel(config: config, backend: ReferenceBackend(), seed: 3)
        var settings = TrainingSettings()
        settings.warmupSteps = 1
        settings.maxSteps = 5
        let trainer = try Trainer(model: model, settings: settings)
        let entry = model.layout.entry(named: "transformer.wpe.weight")!
        let before = Array(try model.parameterValues()[entry.offset..<(entry.offset + entry.count)])
        let data = randomBatch(vocab: config.vocabSize, batch: 2, length: 6, seed: 1)
        for _ in 0..<3 { _ = try trainer.trainStep(tokens: data.tokens, targets: data.targets, batch: 2, length: 6) }
        let after = Array(try model.parameterValues()[entry.offset..<(entry.offset + entry.count)])
        #expect(before == after)
        #expect(before[1] == 1)  // cos(0) in the table's first row
    }
}
