// Initial parameter values: GPT-2 style (llm.c / nanoGPT) and the fixed sinusoidal position table.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Compute

enum ParameterInit {
    /// Weights ~ N(0, 0.02); residual output projections (attention out, FFN down) ~
    /// N(0, 0.02 / sqrt(2L)) so the residual stream's variance does not grow with depth;
    /// biases 0; norm weights 1; a sinusoidal table when positions are sinusoidal.
    static func values(config: ModelConfig, layout: ParameterLayout, seed: UInt64) -> [Float] {
        var values = [Float](repeating: 0, count: layout.count)
        var rng = SplitMix64(seed: seed)
        let residualStd = 0.02 / (2.0 * Double(config.layers)).squareRoot()
        var residualProjections = Set<Int>()
        for block in layout.blocks {
            residualProjections.insert(block.attentionProjWeight)
            residualProjections.insert(block.ffnDownWeight)
        }
        for entry in layout.entries {
            let range = entry.offset..<(entry.offset + entry.count)
            if entry.offset == layout.positionEmbedding && config.positions == .sinusoidal {
                let table = sinusoidalTable(length: config.contextLength, dim: config.embeddingDim)
                values.replaceSubrange(range, with: table)
            } else if entry.shape.count == 2 {
                // Llama's q/k/v (and gate/up) are separate entries inside one fused matrix; each
                // entry draws its own values, so the offsets alone decide which std applies.
                let std = residualProjections.contains(entry.offset) ? residualStd : 0.02
                for i in range { values[i] = Float(rng.nextNormal() * std) }
            } else if entry.name.hasSuffix(".weight") {
                // The only 1-D ".weight" tensors are norm gains (biases are named ".bias").
                for i in range { values[i] = 1 }
            }
        }
        return values
    }

    /// pe[pos, 2i] = sin(pos / 10000^(2i/C)), pe[pos, 2i+1] = cos(pos / 10000^(2i/C)).
    static func sinusoidalTable(length: Int, dim: Int) -> [Float] {
        var table = [Float](repeating: 0, count: length * dim)
        for pos in 0..<length {
            for i in 0..<(dim / 2) {
                let angle = Double(pos) / pow(10_000, Double(2 * i) / Double(dim))
                table[pos * dim + 2 * i] = Float(sin(angle))
                table[pos * dim + 2 * i + 1] = Float(cos(angle))
            }
        }
        return table
    }
}
