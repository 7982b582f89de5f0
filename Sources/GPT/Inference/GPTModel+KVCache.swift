// Incremental inference with a KV cache: each new token runs the blocks on its own row only, and
// attends to the q/k/v rows the cache kept from earlier tokens. One sequence (B = 1) per cache.
//
// The cache keeps each layer's qkv rows (L, T, 3C) for positions 0..<length; positions and RoPE
// use the absolute position in the cache, so logits equal a full forward over the same prefix.

import Compute

/// The keys and values of one sequence's tokens so far, per layer, for incremental decoding.
public final class KVCache {
    /// Tokens held (positions 0..<length are cached).
    public private(set) var length = 0
    /// Maximum tokens: the model's context length.
    public let capacity: Int
    let qkv: Buffer         // (L, T, 3C)
    let tokens: Buffer      // (T) int32: the new tokens of one call
    let x: Buffer           // (T, C) residual stream of the new rows
    let normed: Buffer      // (T, C)
    let attention: Buffer   // (T, C)
    let projection: Buffer  // (T, C)
    let ffnPre: Buffer      // (T, F or 2F)
    let ffnAct: Buffer      // (T, F)
    let mean: Buffer        // (T)
    let rstd: Buffer        // (T)
    let logits: Buffer      // (V): the last new row's logits

    init(config: ModelConfig, backend: any Backend) throws {
        let t = config.contextLength, c = config.embeddingDim, f = config.ffnDim
        let up = config.activation == .swiglu ? 2 * f : f
        func floats(_ count: Int) throws -> Buffer { try backend.allocate(count, .float32) }
        capacity = t
        qkv = try floats(config.layers * t * 3 * c)
        tokens = try backend.allocate(t, .int32)
        x = try floats(t * c)
        normed = try floats(t * c)
        attention = try floats(t * c)
        projection = try floats(t * c)
        ffnPre = try floats(t * up)
        ffnAct = try floats(t * f)
        mean = try floats(t)
        rstd = try floats(t)
        logits = try floats(config.vocabSize)
    }

    /// Forgets every cached token (the buffers are kept).
    public func reset() { length = 0 }

    fileprivate func advance(by count: Int) { length += count }
}

extension GPTModel {
    /// A cache for incremental generation with this model.
    public func makeKVCache() throws -> KVCache { try KVCache(config: config, backend: backend) }

    /// Appends `tokens` at positions cache.length ..< cache.length + tokens.count and returns the
    /// logits (V) of the last of them. Throws when the cache would exceed the context length.
    public func forwardCached(tokens newTokens: [Int32], cache: KVCache) throws -> [Float] {
        let p = cache.length, n = newTokens.count
        let c = config.embeddingDim, f = config.ffnDim, v = config.vocabSize, t = cache.capacity
        let up = config.activation == .swiglu ? 2 * f : f
        guard n >= 1 else { throw ModelError.shape("forwardCached needs at least one token") }
        guard p + n <= t else {
            throw ModelError.shape("KV cache holds \(p) tokens; \(n) more exceed the context length \(t)")
        }
        if let bad = newTokens.first(where: { $0 < 0 || Int($0) >= v }) {
            throw ModelError.tokenOutOfRange(token: bad, vocabSize: v)
        }
        let x = cache.x.prefix(n * c), normed = cache.normed.prefix(n * c)
        let att = cache.attention.prefix(n * c), projection = cache.projection.prefix(n * c)
        let mean = cache.mean.prefix(n), rstd = cache.rstd.prefix(n)
        let ffnPre = cache.ffnPre.prefix(n * up), ffnAct = cache.ffnAct.prefix(n * f)

        try backend.upload(newTokens, to: cache.tokens.prefix(n))
        try backend.embeddingForward(out: x, table: slice(parameters, layout.tokenEmbedding, v * c),
                                     tokens: cache.tokens.prefix(n), count: n, dim: c)
        if let wpe = layout.positionEmbedding {
            try backend.addBias(out: x, bias: slice(parameters, wpe + p * c, n * c), rows: 1, cols: n * c)
        }
        for l in 0..<config.layers {
            let block = layout.blocks[l]
            let layerCache = cache.qkv.view(offset: l * t * 3 * c, count: (p + n) * 3 * c)
            let newRows = layerCache.view(offset: p * 3 * c, count: n * 3 * c)
            try norm(out: normed, mean: mean, rstd: rstd, input: x, weight: block.norm1Weight,
                     bias: block.norm1Bias, rows: n)
            try linear(out: newRows, input: normed, weight: block.qkvWeight, bias: block.qkvBias,
                       rows: n, inDim: c, outDim: 3 * c)
            if config.positions == .rope {
                try backend.ropeForward(newRows, rows: n, sequenceLength: n, rowStride: 3 * c,
                                        heads: 2 * config.heads, headDim: config.headDim,
                                        theta: config.ropeTheta, positionOffset: p)
            }
            try backend.attentionCachedForward(out: att, qkv: layerCache, start: p, queries: n,
                                               heads: config.heads, headDim: config.headDim)
            try linear(out: projection, input: att, weight: block.attentionProjWeight,
                       bias: block.attentionProjBias, rows: n, inDim: c, outDim: c)
            try backend.add(out: x, a: x, b: projection)

            try feedForward(block, input: x, normed: normed, mean: mean, rstd: rstd, pre: ffnPre, act: ffnAct,
                            out: projection, rows: n)
            try backend.add(out: x, a: x, b: projection)
        }
        // Only the last row's logits are needed to sample the next token.
        let lastRow = x.view(offset: (n - 1) * c, count: c), lastNormed = normed.view(offset: 0, count: c)
        try norm(out: lastNormed, mean: mean.view(offset: 0, count: 1), rstd: rstd.view(offset: 0, count: 1),
                 input: lastRow, weight: layout.finalNormWeight, bias: layout.finalNormBias, rows: 1)
        try backend.matmul(c: cache.logits.all, a: lastNormed, b: slice(parameters, layout.outputHead, v * c),
                           m: 1, n: v, k: c, transposeB: true)
        cache.advance(by: n)
        return try backend.download(cache.logits.all)
    }
}
