// The profile records come from the contract, so the same model step profiled on any backend gives
// the same op names, shape strings, FLOPs and bytes, call by call, as on the reference backend:
// `gpt profile` figures compare across backends. Times differ; nothing else may.

import Compute
import GPT
import ReferenceBackend
import Testing

@Suite("Profile records on every backend")
struct ProfileParityTests {
    /// Three tiny architectures between them issue every op a training step uses.
    static let configs: [(name: String, config: ModelConfig)] = [
        ("gpt2-like", ModelConfig(vocabSize: 11, contextLength: 6, layers: 1, heads: 2, embeddingDim: 8, ffnDim: 16)),
        ("llama-like", ModelConfig(vocabSize: 11, contextLength: 6, layers: 1, heads: 2, embeddingDim: 8, ffnDim: 16,
                                   norm: .rms, activation: .swiglu, positions: .rope, tiedEmbeddings: false,
                                   bias: false, dropout: 0.1)),
        ("relu", ModelConfig(vocabSize: 11, contextLength: 6, layers: 1, heads: 2, embeddingDim: 8, ffnDim: 16,
                             activation: .relu, positions: .sinusoidal)),
    ]

    /// What the contract put in each record, without the times.
    struct Record: Equatable, CustomStringConvertible {
        let name: String, shape: String, flops: Double, bytes: Double
        var description: String { "\(name)(\(shape)) flops=\(flops) bytes=\(bytes)" }
    }

    /// One forward and backward of `config`, then the optimizer's two ops, with a profiler attached.
    static func records(_ config: ModelConfig, on backend: any Backend) throws -> [Record] {
        let model = try GPTModel(config: config, backend: backend, seed: 7)
        let tokens: [Int32] = (0..<12).map { Int32($0 % 11) }
        let profiler = Profiler()
        backend.profiler = profiler
        defer { backend.profiler = nil }
        _ = try model.forward(tokens: tokens, targets: tokens.reversed(), batch: 2, length: 6, training: true,
                              dropoutSeed: 3)
        try model.backward()
        let count = 64
        let parameters = try backend.allocate(4 * count, .float32)
        try backend.fill(parameters.all, with: 0.5)
        let views = (0..<4).map { parameters.view(offset: $0 * count, count: count) }
        try backend.squaredNorm(result: views[1].view(offset: 0, count: 1), input: views[0])
        try backend.adamW(parameters: views[0], gradients: views[1], firstMoment: views[2], secondMoment: views[3],
                          learningRate: 1e-3, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1, step: 1,
                          gradientScale: 1)
        try backend.synchronize()
        return profiler.events.map { Record(name: $0.name, shape: $0.shape, flops: $0.flops, bytes: $0.bytes) }
    }

    @Test("the same step gives the reference's records", arguments: availablePlugins.map(\.name))
    func recordsMatchTheReference(_ name: String) throws {
        let plugin = try #require(availablePlugins.first { $0.name == name })
        for (variant, config) in Self.configs {
            let expected = try Self.records(config, on: ReferenceBackend())
            let got = try Self.records(config, on: try plugin.make(BackendOptions()))
            #expect(got.count == expected.count, "\(name) \(variant): \(got.count) records, reference \(expected.count)")
            for (index, (record, reference)) in zip(got, expected).enumerated() where record != reference {
                Issue.record("\(name) \(variant) record \(index): \(record), reference \(reference)")
                break
            }
        }
    }

    @Test("the step covers every op a training step uses")
    func stepCoversTheTrainingOps() throws {
        let names = Set(try Self.configs.flatMap { try Self.records($0.config, on: ReferenceBackend()) }.map(\.name))
        // Generation, and ops only tests and tools call.
        let unused: Set<Op> = [.attentionCachedForward, .softmaxForward, .softmaxBackward, .scale, .addScaled]
        for op in Op.allCases where !unused.contains(op) {
            #expect(names.contains(op.rawValue), "no \(op.rawValue) record in a training step")
        }
    }
}
