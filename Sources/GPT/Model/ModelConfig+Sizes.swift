// How many floats a config's buffers hold, computed from the config alone with overflow checks
// (CheckedSize), so a config from a file can be sized, and refused, before anything is allocated:
// the flat parameter buffer (ParameterLayout's count), the activations of N tokens
// (ActivationBuffers) and a KV cache (KVCache). Each formula mirrors the allocations it counts;
// ModelSizeTests holds them to the real layout and buffers.

extension ModelConfig {
    /// F or 2F: the FFN up projection's width (SwiGLU has a gate and an up half).
    var upWidth: Int { activation == .swiglu ? 2 * ffnDim : ffnDim }

    /// hs without trapping on a config not yet validated (heads 0).
    private var checkedHeadDim: Int { heads > 0 ? headDim : 0 }

    /// W = (NH + 2·KVH)·hs: the fused qkv projection's width (3C without grouped-query attention
    /// or an explicit head size).
    func checkedQKVWidth(_ what: @autoclosure () -> String) throws(SizeOverflow) -> Int {
        try CheckedSize.product(try CheckedSize.sum([heads, kvHeads, kvHeads], of: what()), checkedHeadDim, of: what())
    }

    /// A = NH·hs: the attention output's width (C unless the head size is explicit).
    func checkedAttentionWidth(_ what: @autoclosure () -> String) throws(SizeOverflow) -> Int {
        try CheckedSize.product(heads, checkedHeadDim, of: what())
    }

    /// P: floats of the flat parameter buffer, `ParameterLayout(self).count`.
    public func parameterCount() throws(SizeOverflow) -> Int {
        let c = embeddingDim, f = ffnDim, v = vocabSize, up = upWidth
        let what = "the parameters of a model with \(layers) layers, embeddingDim \(c), ffnDim \(f), "
            + "vocabSize \(v) and contextLength \(contextLength)"
        let normBias = norm == .layer && bias, w = try checkedQKVWidth(what), a = try checkedAttentionWidth(what)
        // Per block: two norm gains (and biases), the fused q/k/v (W x C) and output (C x A)
        // projections, FFN up and down.
        let block = try CheckedSize.sum([
            try CheckedSize.product(normBias ? 4 : 2, c, of: what),
            try CheckedSize.product(w, c, of: what), try CheckedSize.product(c, a, of: what),
            bias ? try CheckedSize.sum([w, c], of: what) : 0,
            try CheckedSize.product(up, c, of: what), try CheckedSize.product(c, f, of: what),
            bias ? try CheckedSize.sum([up, c], of: what) : 0,
        ], of: what)
        return try CheckedSize.sum([
            try CheckedSize.product(v, c, of: what),
            positions == .rope ? 0 : try CheckedSize.product(contextLength, c, of: what),
            try CheckedSize.product(layers, block, of: what),
            try CheckedSize.product(normBias ? 2 : 1, c, of: what),
            tiedEmbeddings ? 0 : try CheckedSize.product(v, c, of: what),
        ], of: what)
    }

    /// Floats (int32 token buffers counted as floats: the same size) of the activation buffers
    /// for N = `tokens` rows: what forward saves for backward, and backward's scratch.
    public func activationFloatCount(tokens n: Int) throws(SizeOverflow) -> Int {
        let c = embeddingDim, f = ffnDim, v = vocabSize, up = upWidth
        let what = "the activations of \(n) tokens (\(layers) layers, embeddingDim \(c), vocabSize \(v))"
        let w = try checkedQKVWidth(what), a = try checkedAttentionWidth(what)
        // Per layer: residual, residual mid, norm1, norm2 (4C), attention (A), qkv (W); two means
        // and two rstds; NH logsumexps; the FFN's pre- and post-activation.
        let perLayer = try CheckedSize.sum([try CheckedSize.product(4, c, of: what), a, w, 4, heads, up, f], of: what)
        // Once: the last residual, the final norm (C + 2), logits (V), losses, tokens and
        // targets; backward scratch: dResidual, dScratch (2C), dNorm (the wider of C and A), dQKV
        // (W), dFFNPre, dFFNAct.
        let once = try CheckedSize.sum([try CheckedSize.product(4, c, of: what), max(c, a), w, 5, v, up, f], of: what)
        return try CheckedSize.sum([try CheckedSize.product(layers, n, perLayer, of: what),
                                    try CheckedSize.product(n, once, of: what), 1], of: what)
    }

    /// Floats (and int32s) of one sequence's KV cache: every layer's key and value heads (2·KVH·hs
    /// per position) for the whole context, and the scratch of up to T new rows.
    public func kvCacheFloatCount() throws(SizeOverflow) -> Int {
        let t = contextLength, c = embeddingDim
        let what = "the KV cache of \(layers) layers x \(t) positions x embeddingDim \(c)"
        let keysValues = try CheckedSize.product(2, kvHeads, checkedHeadDim, of: what), a = try checkedAttentionWidth(what)
        // keys and values (L, T, 2·KVH·hs); tokens, mean, rstd (T each); query, attention (T, A);
        // x, normed, projection (T, C); ffnPre (T, up), ffnAct (T, F); logits (V).
        let row = try CheckedSize.sum([3, try CheckedSize.product(2, a, of: what), try CheckedSize.product(3, c, of: what),
                                       upWidth, ffnDim], of: what)
        return try CheckedSize.sum([try CheckedSize.product(layers, t, keysValues, of: what),
                                    try CheckedSize.product(t, row, of: what), vocabSize], of: what)
    }
}
