// Model behaviour on the reference backend: shapes, causality, learning, determinism, errors.

import Compute
import Foundation
import GPT
import ReferenceBackend
import Testing

@Suite("Model behaviour")
struct ModelBehaviourTests {
    @Test("logits have shape (B*T, V) and loss is near ln(V) at init", arguments: Variant.all)
    func shapes(variant: Variant) throws {
        let model = try GPTModel(config: variant.config, backend: ReferenceBackend(), seed: 1)
        let data = randomBatch(vocab: variant.config.vocabSize, batch: 3, length: 4, seed: 2)
        let loss = try model.forward(tokens: data.tokens, targets: data.targets, batch: 3, length: 4)!
        #expect(try model.allLogits().count == 3 * 4 * variant.config.vocabSize)
        #expect(try model.logits(row: 11).count == variant.config.vocabSize)
        #expect(abs(Double(loss) - log(Double(variant.config.vocabSize))) < 0.3)
        #expect(throws: ModelError.self) { try model.logits(row: 12) }
    }

    @Test("changing tokens after position t never changes logits at positions <= t", arguments: Variant.all)
    func causal(variant: Variant) throws {
        let model = try GPTModel(config: variant.config, backend: ReferenceBackend(), seed: 4)
        let v = variant.config.vocabSize, length = 6
        let base = randomBatch(vocab: v, batch: 1, length: length, seed: 8).tokens
        try model.forward(tokens: base, targets: nil, batch: 1, length: length)
        let reference = try model.allLogits()
        for t in 0..<(length - 1) {
            var changed = base
            for j in (t + 1)..<length { changed[j] = Int32((Int(changed[j]) + 1 + j) % v) }
            try model.forward(tokens: changed, targets: nil, batch: 1, length: length)
            let logits = try model.allLogits()
            #expect(Array(logits[0..<((t + 1) * v)]) == Array(reference[0..<((t + 1) * v)]),
                    "\(variant.name): logits at positions <= \(t) changed")
            #expect(logits[((t + 1) * v)...] != reference[((t + 1) * v)...],
                    "\(variant.name): later positions should see the change")
        }
    }

    @Test("a tiny model overfits one batch (loss < 0.1)")
    func overfit() throws {
        let config = ModelConfig(vocabSize: 16, contextLength: 16, layers: 2, heads: 2, embeddingDim: 32,
                                 ffnDim: 64)
        let model = try GPTModel(config: config, backend: ReferenceBackend(), seed: 1)
        var settings = TrainingSettings()
        settings.learningRate = 1e-2
        settings.warmupSteps = 10
        settings.maxSteps = 150
        settings.weightDecay = 0
        let trainer = try Trainer(model: model, settings: settings)
        let data = randomBatch(vocab: 16, batch: 4, length: 16, seed: 3)
        var loss: Float = .infinity
        for _ in 0..<settings.maxSteps {
            loss = try trainer.trainStep(tokens: data.tokens, targets: data.targets, batch: 4, length: 16).loss
        }
        #expect(loss < 0.1)
    }

    @Test("the same seed gives an identical loss curve; another seed a different one")
    func determinism() throws {
        func curve(seed: UInt64) throws -> [Float] {
            let config = Variant.all[2].config  // with dropout, so the mask stream is exercised too
            var settings = TrainingSettings()
            settings.seed = seed
            settings.warmupSteps = 2
            settings.maxSteps = 8
            let model = try GPTModel(config: config, backend: ReferenceBackend(), seed: seed)
            let trainer = try Trainer(model: model, settings: settings)
            return try (0..<8).map { step in
                let data = randomBatch(vocab: config.vocabSize, batch: 2, length: 6, seed: UInt64(step))
                return try trainer.trainStep(tokens: data.tokens, targets: data.targets, batch: 2, length: 6).loss
            }
        }
        let first = try curve(seed: 42)
        #expect(try curve(seed: 42) == first)
        #expect(try curve(seed: 43) != first)
        #expect(first.last! < first.first!)
    }

    @Test("bad inputs are one-line errors, not crashes")
    func badInputs() throws {
        let config = Variant.all[0].config
        let model = try GPTModel(config: config, backend: ReferenceBackend(), seed: 1)
        #expect(throws: ModelError.tokenOutOfRange(token: 11, vocabSize: 11)) {
            try model.forward(tokens: [0, 11], targets: nil, batch: 1, length: 2)
        }
        #expect(throws: ModelError.self) { try model.forward(tokens: [0, 1, 2], targets: nil, batch: 1, length: 2) }
        #expect(throws: ModelError.self) {
            try model.forward(tokens: Array(repeating: 0, count: 7), targets: nil, batch: 1, length: 7)
        }
        #expect(throws: ModelError.state("must forward with targets before backward")) { try model.backward() }
        var bad = config
        bad.embeddingDim = 9
        #expect(throws: ModelError.self) { try GPTModel(config: bad, backend: ReferenceBackend(), seed: 1) }
        #expect(throws: ModelError.unknownPreset("tiny", known: ModelConfig.presetNames)) {
            try ModelConfig.preset("tiny")
        }
    }

    @Test("every preset validates and names its tensors like Hugging Face")
    func presets() throws {
        for name in ModelConfig.presetNames {
            let config = try ModelConfig.preset(name)
            try config.validate()
            let layout = ParameterLayout(config)
            let expectedFirst = config.positions == .rope ? "model.embed_tokens.weight" : "transformer.wte.weight"
            #expect(layout.entries.first?.name == expectedFirst)
            #expect(layout.entries.contains { $0.name == "lm_head.weight" } == !config.tiedEmbeddings)
        }
        let gpt2 = ParameterLayout(try ModelConfig.preset("gpt2-124m"))
        #expect(gpt2.entries.filter(\.trainable).reduce(0) { $0 + $1.count } == 124_439_808)
    }
}

@Suite("Parameter layout")
struct ParameterLayoutTests {
    @Test("tensors tile the flat buffer exactly; fused matrices stay adjacent", arguments: Variant.all)
    func tiling(variant: Variant) {
        let layout = ParameterLayout(variant.config)
        let sorted = layout.entries.sorted { $0.offset < $1.offset }
        var next = 0
        for entry in sorted {
            #expect(entry.offset == next, "\(entry.name) starts at \(entry.offset), expected \(next)")
            next = entry.offset + entry.count
        }
        #expect(next == layout.count)
        // Decayed matrices first, then the other trainable tensors, then fixed tables: AdamW needs
        // one launch per region.
        let trainable = sorted.filter(\.trainable)
        let firstVector = trainable.firstIndex { !$0.weightDecay } ?? trainable.count
        #expect(trainable[firstVector...].allSatisfy { !$0.weightDecay })
        #expect(sorted.drop { $0.trainable }.allSatisfy { !$0.trainable })
        if variant.config.positions == .rope {
            let q = layout.entry(named: "model.layers.0.self_attn.q_proj.weight")!
            let k = layout.entry(named: "model.layers.0.self_attn.k_proj.weight")!
            let vProj = layout.entry(named: "model.layers.0.self_attn.v_proj.weight")!
            #expect(k.offset == q.offset + q.count && vProj.offset == k.offset + k.count)
            #expect(layout.blocks[0].qkvWeight == q.offset)
        }
    }
}
