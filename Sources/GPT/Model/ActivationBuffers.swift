// The activation buffers: every tensor the forward pass saves for the backward pass, plus backward
// scratch. Allocated once for a token capacity N = B*T (grown when a larger batch arrives), one
// buffer per kind spanning all layers, so a layer's tensor is `chunk(l)` (llm.c's ActivationTensors).

import Compute

struct ActivationBuffers {
    /// Tokens (N = B*T) the buffers were allocated for.
    let capacity: Int
    let layers: Int

    // Inputs.
    let tokens: Buffer          // (N) int32
    let targets: Buffer         // (N) int32
    // Per layer, (L+1) of them for the residual stream: residual[l] enters block l.
    let residual: Buffer        // (L+1, N, C)
    let residualMid: Buffer     // (L, N, C): after attention, before the FFN
    let norm1: Buffer           // (L, N, C)
    let norm1Mean: Buffer       // (L, N)
    let norm1Rstd: Buffer       // (L, N)
    let qkv: Buffer             // (L, N, W), W = (NH + 2·KVH)·hs: q and k already rotated when RoPE is on
    let attention: Buffer       // (L, N, A), A = NH·hs (C unless the config sets headDim)
    let logsumexp: Buffer       // (L, N*NH)
    let norm2: Buffer           // (L, N, C)
    let norm2Mean: Buffer       // (L, N)
    let norm2Rstd: Buffer       // (L, N)
    let ffnPre: Buffer          // (L, N, F or 2F): before the activation
    let ffnAct: Buffer          // (L, N, F)
    let finalNorm: Buffer       // (N, C)
    let finalMean: Buffer       // (N)
    let finalRstd: Buffer       // (N)
    let logits: Buffer          // (N, V); holds dlogits after backward
    let losses: Buffer          // (N)
    // Backward scratch, reused by every layer.
    let dResidual: Buffer       // (N, C)
    let dScratch: Buffer        // (N, C)
    let dNorm: Buffer           // (N, max(C, A)): also the attention output's gradient
    let dQKV: Buffer            // (N, W)
    let dFFNPre: Buffer         // (N, F or 2F)
    let dFFNAct: Buffer         // (N, F)
    let scalar: Buffer          // (1): squared norm result

    init(config: ModelConfig, capacity n: Int, backend: any Backend) throws {
        let c = config.embeddingDim, l = config.layers, v = config.vocabSize, f = config.ffnDim
        let up = config.activation == .swiglu ? 2 * f : f, w = config.qkvWidth, a = config.attentionWidth
        func floats(_ count: Int) throws -> Buffer { try backend.allocate(count, .float32) }
        _ = try config.activationFloatCount(tokens: n)  // the products below cannot overflow
        capacity = n
        layers = l
        tokens = try backend.allocate(n, .int32)
        targets = try backend.allocate(n, .int32)
        residual = try floats((l + 1) * n * c)
        residualMid = try floats(l * n * c)
        norm1 = try floats(l * n * c)
        norm1Mean = try floats(l * n)
        norm1Rstd = try floats(l * n)
        qkv = try floats(l * n * w)
        attention = try floats(l * n * a)
        logsumexp = try floats(l * n * config.heads)
        norm2 = try floats(l * n * c)
        norm2Mean = try floats(l * n)
        norm2Rstd = try floats(l * n)
        ffnPre = try floats(l * n * up)
        ffnAct = try floats(l * n * f)
        finalNorm = try floats(n * c)
        finalMean = try floats(n)
        finalRstd = try floats(n)
        logits = try floats(n * v)
        losses = try floats(n)
        dResidual = try floats(n * c)
        dScratch = try floats(n * c)
        dNorm = try floats(n * max(c, a))
        dQKV = try floats(n * w)
        dFFNPre = try floats(n * up)
        dFFNAct = try floats(n * f)
        scalar = try floats(1)
    }
}

extension Buffer {
    /// Layer `index` of a per-layer buffer whose layers are `stride` elements apart, trimmed to
    /// the first `count` elements (the batch actually in use).
    func layer(_ index: Int, stride: Int, count: Int) -> BufferView {
        view(offset: index * stride, count: count)
    }

    /// The first `count` elements.
    func prefix(_ count: Int) -> BufferView { view(offset: 0, count: count) }
}
