// Whole-model conformance: one tiny GPT per architecture variant, run on a backend and on the oracle
// from identical weights and batches (llm.c's test_gpt2 pattern, with the reference backend as the
// expected side): logits, loss, every gradient tensor by name, then the losses of 10 AdamW steps.

import Compute
import GPT

/// One model variant at tiny size (2 layers, C = 24, 3 heads of 8, F = 40, V = 37, B = 2, T = 9 of a
/// context of 12, so positions are sliced; grouped-query variants have 4 query heads of 6 over 2 KV
/// heads, or 3 over 1).
///
/// Tolerance (looser than single ops, because errors compound through 2 blocks and the head):
/// - logits and loss: relative 1e-4, NMSE 1e-9.
/// - gradients: one more pass through every op in reverse, and sums over B·T rows: relative 1e-3,
///   NMSE 1e-7 per tensor.
/// - losses over 10 AdamW steps: Adam's update m/sqrt(v) is scale-free, so gradient components near
///   zero that differ by rounding move their parameters by up to ±lr either way; the loss trajectory
///   stays close but not float-exact: relative 1e-3, NMSE 1e-7.
public struct ModelCase: ConformanceCase {
    /// The variant's name in the result line (a preset's name, or the option it flips).
    public let variant: String
    /// The tiny model's configuration.
    public let config: ModelConfig
    /// B sequences of T = `length` tokens per step.
    public let batch: Int, length: Int
    /// AdamW steps whose losses are compared.
    public let steps: Int

    /// One variant at `config`, trained for `steps` steps on batches of `batch`×`length` tokens.
    public init(variant: String, config: ModelConfig, batch: Int = 2, length: Int = 9, steps: Int = 10) {
        self.variant = variant
        self.config = config
        self.batch = batch
        self.length = length
        self.steps = steps
    }

    /// The `Op` raw value of the call under test (what `--op` selects by).
    public var op: String { "model" }
    /// Shape and options as `key=value` pairs, as the result line prints them.
    public var parameters: String {
        let c = config
        return "variant=\(variant),norm=\(c.norm.rawValue),act=\(c.activation.rawValue),pos=\(c.positions.rawValue)"
            + ",tied=\(c.tiedEmbeddings ? 1 : 0),bias=\(c.bias ? 1 : 0),dropout=\(c.dropout),L=\(c.layers)"
            + ",C=\(c.embeddingDim),NH=\(c.heads),KVH=\(c.kvHeads)"
            // hs only where it is not C / NH, so the other cases keep their names and seeds.
            + (c.attentionWidth == c.embeddingDim ? "" : ",hs=\(c.headDim)")
            + ",F=\(c.ffnDim),V=\(c.vocabSize),B=\(batch),T=\(length),steps=\(steps)"
    }
    /// Derived from `description`: the same case draws the same inputs on every run.
    public var seed: UInt64 { Self.seed(for: description) }
    /// The bound derived in the type's doc comment.
    public var tolerance: Tolerance { Tolerance(nmse: 1e-9, relative: 1e-4) }
    static let gradientTolerance = Tolerance(nmse: 1e-7, relative: 1e-3)
    static let trainingTolerance = Tolerance(nmse: 1e-7, relative: 1e-3)

    /// The ops this variant calls; an unsupported one makes the case SKIP.
    public var requiredOps: [Op] {
        var ops: [Op] = [.matmul, .add, .embeddingForward, .embeddingBackward, .attentionForward, .attentionBackward,
                         .crossEntropyForward, .adamW, .squaredNorm]
        if config.bias || config.positions != .rope { ops += [.addBias, .biasBackward] }
        switch config.norm {
        case .layer: ops += [.layerNormForward, .layerNormBackward]
        case .rms: ops += [.rmsNormForward, .rmsNormBackward]
        }
        switch config.activation {
        case .gelu: ops += [.geluForward, .geluBackward]
        case .relu: ops += [.reluForward, .reluBackward]
        case .swiglu: ops += [.swigluForward, .swigluBackward]
        }
        if config.positions == .rope { ops += [.ropeForward, .ropeBackward] }
        if config.dropout > 0 { ops += [.dropoutForward, .dropoutBackward] }
        return ops
    }

    /// Builds the model twice from identical weights, once on each backend, and compares logits, loss,
    /// every gradient by name and the loss trajectory. Throws what `backend` throws.
    public func run(backend: any Backend, oracle: any Backend) throws -> CaseResult {
        let expected: [NamedOutput]
        do {
            expected = try observe(on: oracle, initial: nil)
        } catch {
            throw OracleFailure(error: error)
        }
        let initial = try GPTModel(config: config, backend: oracle, seed: seed).parameterValues()
        let actual = try observe(on: backend, initial: initial)
        var problems: [String] = []
        for output in expected where output.values.contains(where: { !$0.isFinite }) {
            problems.append("reference produced non-finite '\(output.name)'")
        }
        return Conformance.judge(self, backend: backend.name, reference: expected, candidate: actual, problems: problems)
    }

    /// Batches drawn from the case seed: tokens in 0..<V, targets likewise with every 7th ignored (-1).
    private func batches() -> [(tokens: [Int32], targets: [Int32])] {
        var generator = SplitMix64(seed: seed)
        let n = batch * length, v = UInt64(config.vocabSize)
        return (0...steps).map { _ in
            let tokens = (0..<n).map { _ in Int32(generator.next() % v) }
            let targets = (0..<n).map { i in i % 7 == 3 ? -1 : Int32(generator.next() % v) }
            return (tokens, targets)
        }
    }

    /// Logits, loss and named gradients of one forward/backward, then the training losses. With
    /// `initial` the weights are loaded from the oracle's model rather than trusted to match.
    private func observe(on backend: any Backend, initial: [Float]?) throws -> [NamedOutput] {
        let model = try GPTModel(config: config, backend: backend, seed: seed)
        if let initial { try model.loadParameterValues(initial) }
        let data = batches()
        let training = config.dropout > 0
        try model.zeroGradients()
        let loss = try model.forward(tokens: data[0].tokens, targets: data[0].targets, batch: batch, length: length,
                                     training: training, dropoutSeed: seed) ?? .nan
        var outputs = [NamedOutput(name: "logits", values: try model.allLogits()),
                       NamedOutput(name: "loss", values: [loss])]
        try model.backward()
        let gradients = try model.gradientValues()
        for entry in model.layout.entries where entry.trainable {
            outputs.append(NamedOutput(name: "grad " + entry.name,
                                       values: Array(gradients[entry.offset ..< entry.offset + entry.count]),
                                       tolerance: Self.gradientTolerance))
        }
        var settings = TrainingSettings()
        settings.maxSteps = steps
        settings.warmupSteps = 2
        settings.learningRate = 3e-3
        settings.seed = seed
        let trainer = try Trainer(model: model, settings: settings)
        var losses: [Float] = []
        for item in data.dropFirst() {
            losses.append(try trainer.trainStep(tokens: item.tokens, targets: item.targets, batch: batch,
                                                length: length).loss)
        }
        outputs.append(NamedOutput(name: "losses of \(steps) AdamW steps", values: losses, tolerance: Self.trainingTolerance))
        return outputs
    }

    /// A preset's architecture flags at tiny size (a grouped-query preset keeps its grouping: 4
    /// query heads over 2 KV heads).
    static func tiny(_ preset: ModelConfig) -> ModelConfig {
        var config = preset
        config.vocabSize = 37
        config.contextLength = 12
        config.layers = 2
        (config.heads, config.kvHeads) = preset.kvHeads < preset.heads ? (4, 2) : (3, 3)
        config.embeddingDim = 24
        config.ffnDim = 40
        return config
    }

    /// Every preset's flag combination, then one variant per option flipped from the char-baby base,
    /// so each norm, activation, position scheme, tying, bias and dropout setting runs at least once,
    /// grouped-query and multi-query attention (on RoPE, the Llama layout they need), and heads
    /// wider than C / NH (Llama's head_dim).
    static func catalogue(extended: Bool) -> [any ConformanceCase] {
        var variants: [(String, ModelConfig)] = []
        for name in ModelConfig.presetNames {
            guard let preset = try? ModelConfig.preset(name) else { continue }
            variants.append((name, tiny(preset)))
        }
        guard let base = variants.first?.1 else { return [] }
        func flipped(_ name: String, _ change: (inout ModelConfig) -> Void) -> (String, ModelConfig) {
            var config = base
            change(&config)
            return (name, config)
        }
        variants += [
            flipped("rmsnorm") { $0.norm = .rms },
            flipped("relu") { $0.activation = .relu },
            flipped("swiglu") { $0.activation = .swiglu },
            flipped("sinusoidal") { $0.positions = .sinusoidal },
            flipped("rope") { $0.positions = .rope },
            flipped("untied") { $0.tiedEmbeddings = false },
            flipped("nobias") { $0.bias = false },
            flipped("dropout") { $0.dropout = 0.1 },
            flipped("gqa") { ($0.positions, $0.heads, $0.kvHeads) = (.rope, 4, 2) },
            flipped("mqa") { ($0.positions, $0.kvHeads, $0.bias) = (.rope, 1, false) },
            // Llama's head_dim other than C / NH: 4 heads of 10, attention 40 wide in a 24-wide model.
            flipped("headdim") { ($0.positions, $0.heads, $0.kvHeads, $0.headDim) = (.rope, 4, 2, 10) },
        ]
        // Presets that share flags with an earlier entry add nothing (gpt2-124m == char-baby here).
        var unique: [(String, ModelConfig)] = []
        for variant in variants where !unique.contains(where: { $0.1 == variant.1 }) { unique.append(variant) }
        var cases: [any ConformanceCase] = unique.map { ModelCase(variant: $0.0, config: $0.1) as any ConformanceCase }
        if extended, var charBaby = try? ModelConfig.preset("char-baby") {
            charBaby.vocabSize = 65
            cases.append(ModelCase(variant: "char-baby-full", config: charBaby, batch: 2, length: 64))
        }
        return cases
    }
}
