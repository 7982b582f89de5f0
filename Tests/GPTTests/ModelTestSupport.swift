// Tiny model variants and batches shared by the model tests.

import Compute
import GPT
import ReferenceBackend

/// One tiny config per architecture variant the graph supports (each preset's family is covered).
struct Variant: CustomStringConvertible, Sendable {
    let name: String
    let config: ModelConfig
    var description: String { name }

    static func tiny(norm: ModelConfig.Norm, activation: ModelConfig.Activation, positions: ModelConfig.Positions,
                     tied: Bool, bias: Bool, dropout: Float = 0, heads: Int = 2, kvHeads: Int? = nil,
                     headDim: Int? = nil) -> ModelConfig {
        ModelConfig(vocabSize: 11, contextLength: 6, layers: 2, heads: heads, kvHeads: kvHeads, headDim: headDim, embeddingDim: 8,
                    ffnDim: 12, norm: norm, activation: activation, positions: positions, tiedEmbeddings: tied,
                    bias: bias, dropout: dropout)
    }

    static let all: [Variant] = [
        Variant(name: "gpt2 (layer, gelu, learned, tied, bias)",
                config: tiny(norm: .layer, activation: .gelu, positions: .learned, tied: true, bias: true)),
        Variant(name: "lyrics (layer, relu, sinusoidal, untied, bias, dropout)",
                config: tiny(norm: .layer, activation: .relu, positions: .sinusoidal, tied: false, bias: true,
                             dropout: 0.2)),
        Variant(name: "llama (rms, swiglu, rope, tied, no bias, dropout)",
                config: tiny(norm: .rms, activation: .swiglu, positions: .rope, tied: true, bias: false,
                             dropout: 0.1)),
        Variant(name: "mixed (rms, gelu, rope, untied, bias)",
                config: tiny(norm: .rms, activation: .gelu, positions: .rope, tied: false, bias: true)),
        Variant(name: "mixed (layer, swiglu, learned, untied, no bias)",
                config: tiny(norm: .layer, activation: .swiglu, positions: .learned, tied: false, bias: false)),
        Variant(name: "llama GQA (rms, swiglu, rope, untied, bias, 4 heads over 2 KV heads)",
                config: tiny(norm: .rms, activation: .swiglu, positions: .rope, tied: false, bias: true,
                             heads: 4, kvHeads: 2)),
        Variant(name: "llama MQA (rms, swiglu, rope, tied, no bias, dropout, 4 heads over 1 KV head)",
                config: tiny(norm: .rms, activation: .swiglu, positions: .rope, tied: true, bias: false,
                             dropout: 0.1, heads: 4, kvHeads: 1)),
        // Llama's head_dim other than C / NH: the attention (4 × 6 = 24) is wider than the model (8).
        Variant(name: "llama head_dim (rms, swiglu, rope, untied, bias, 4 heads of 6 over 2 KV heads, C 8)",
                config: tiny(norm: .rms, activation: .swiglu, positions: .rope, tied: false, bias: true,
                             heads: 4, kvHeads: 2, headDim: 6)),
    ]
}

/// Deterministic random tokens and next-token targets.
func randomBatch(vocab: Int, batch: Int, length: Int, seed: UInt64) -> (tokens: [Int32], targets: [Int32]) {
    var rng = SplitMix64(seed: seed)
    let stream = (0...(batch * length)).map { _ in Int32(rng.next() % UInt64(vocab)) }
    return (Array(stream[0..<(batch * length)]), Array(stream[1...(batch * length)]))
}
