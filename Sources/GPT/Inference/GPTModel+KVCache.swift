// Incremental inference with a KV cache: each new token runs the blocks on its own row only, and
// attends to the keys and values the cache kept from earlier tokens. One sequence (B = 1) per cache.
//
// The cache keeps each layer's key and value heads only, (L, T, 2, KVH, hs) for positions
// 0..<length: with grouped-query attention that is KVH/NH of the multi-head size, and queries are
// never cached (each is used once, by its own row). A block projects the new rows' queries into
// scratch and their keys and values straight into the cache, from the two parts of the fused qkv
// weight. Positions and RoPE use the absolute position in the cache, so logits equal a full forward
// over the same prefix.

import Compute

/// The keys and values of one sequence's tokens so far, per layer, for incremental decoding.
public final class KVCache {
    /// Tokens held (positions 0..<length are cached).
    public private(set) var length = 0
    /// Maximum tokens: the model's context length.
    public let capacity: Int
    let keysValues: Buffer  // (L, T, 2, KVH, hs): each row's keys, then its values
    let query: Buffer       // (T, A), A = NH·hs: the new rows' query heads
    let tokens: Buffer      // (T) int32: the new tokens of one call
    let x: Buffer           // (T, C) residual stream of the new rows
    let normed: Buffer      // (T, C)
    let attention: Buffer   // (T, A)
    let projection: Buffer  // (T, C)
    let ffnPre: Buffer      // (T, F or 2F)
    let ffnAct: Buffer      // (T, F)
    let mean: Buffer        // (T)
    let rstd: Buffer        // (T)
    let logits: Buffer      // (V): the last new row's logits

    init(config: ModelConfig, backend: any Backend) throws {
        let t = config.contextLength, c = config.embeddingDim, f = config.ffnDim, a = config.attentionWidth
        let up = config.activation == .swiglu ? 2 * f : f
        func floats(_ count: Int) throws -> Buffer { try backend.allocate(count, .float32) }
        capacity = t
        keysValues = try floats(config.layers * t * Self.keyValueWidth(config))
        query = try floats(t * a)
        tokens = try backend.allocate(t, .int32)
        x = try floats(t * c)
        normed = try floats(t * c)
        attention = try floats(t * a)
        projection = try floats(t * c)
        ffnPre = try floats(t * up)
        ffnAct = try floats(t * f)
        mean = try floats(t)
        rstd = try floats(t)
        logits = try floats(config.vocabSize)
    }

    /// Forgets every cached token (the buffers are kept).
    public func reset() { length = 0 }

    /// Floats of one cached row of one layer: 2·KVH·hs.
    static func keyValueWidth(_ config: ModelConfig) -> Int { 2 * config.kvHeads * config.headDim }

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
        let up = config.activation == .swiglu ? 2 * f : f, kv = KVCache.keyValueWidth(config)
        let a = config.attentionWidth
        guard n >= 1 else { throw ModelError.shape("forwardCached needs at least one token") }
        guard p + n <= t else {
            throw ModelError.shape("KV cache holds \(p) tokens; \(n) more exceed the context length \(t)")
        }
        if let bad = newTokens.first(where: { $0 < 0 || Int($0) >= v }) {
            throw ModelError.tokenOutOfRange(token: bad, vocabSize: v)
        }
        let x = cache.x.prefix(n * c), normed = cache.normed.prefix(n * c), query = cache.query.prefix(n * a)
        let att = cache.attention.prefix(n * a), projection = cache.projection.prefix(n * c)
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
            let layerCache = cache.keysValues.view(offset: l * t * kv, count: (p + n) * kv)
            let newRows = layerCache.view(offset: p * kv, count: n * kv)
            try norm(out: normed, mean: mean, rstd: rstd, input: x, weight: block.norm1Weight,
                     bias: block.norm1Bias, rows: n)
            // The fused qkv weight's first A rows make the queries, the rest the keys and values.
            try linear(out: query, input: normed, weight: block.qkvWeight, bias: block.qkvBias,
                       rows: n, inDim: c, outDim: a)
            try linear(out: newRows, input: normed, weight: block.qkvWeight + a * c,
                       bias: block.qkvBias.map { $0 + a }, rows: n, inDim: c, outDim: kv)
            if config.positions == .rope {
                try backend.ropeForward(query, rows: n, sequenceLength: n, rowStride: a, heads: config.heads,
                                        headDim: config.headDim, theta: config.ropeTheta, positionOffset: p)
                try backend.ropeForward(newRows, rows: n, sequenceLength: n, rowStride: kv, heads: config.kvHeads,
                                        headDim: config.headDim, theta: config.ropeTheta, positionOffset: p)
            }
            try backend.attentionCachedForward(out: att, query: query, keysValues: layerCache, start: p, queries: n,
                                               heads: config.heads, kvHeads: config.kvHeads, headDim: config.headDim)
            try linear(out: projection, input: att, weight: block.attentionProjWeight,
                       bias: block.attentionProjBias, rows: n, inDim: a, outDim: c)
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
