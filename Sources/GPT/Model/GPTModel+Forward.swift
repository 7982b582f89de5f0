// The forward pass: embeddings, L pre-norm blocks (attention, then FFN), final norm, output head,
// and the mean cross-entropy loss when targets are given.

import Compute

extension GPTModel {
    /// Forward over a (B, T) batch of token ids, 1 <= T <= contextLength. With targets (B*T of them,
    /// -1 = ignored) returns the mean cross-entropy loss over the counted targets, else nil.
    /// `training` turns dropout on, drawn from `dropoutSeed` (identical masks on every backend).
    /// `firstSequence` is the index of this batch's first sequence in a larger batch it is part of (a
    /// data-parallel rank's rows of the global batch): the dropout masks are then exactly the ones
    /// the whole batch would draw for these rows.
    @discardableResult
    public func forward(tokens: [Int32], targets: [Int32]?, batch: Int, length: Int,
                        training: Bool = false, dropoutSeed: UInt64 = 0, firstSequence: Int = 0) throws -> Float? {
        try validateInputs(tokens: tokens, targets: targets, batch: batch, length: length)
        let n = batch * length, c = config.embeddingDim, v = config.vocabSize
        let acts = try activations(for: n)
        let dropSeed = training && config.dropout > 0
            ? DropoutStream(seed: dropoutSeed, firstIndex: firstSequence * length * c) : nil
        try backend.upload(tokens, to: acts.tokens.prefix(n))

        // Embeddings: x0 = wte[tokens] (+ wpe[t]), then dropout.
        let x0 = acts.residual.layer(0, stride: acts.capacity * c, count: n * c)
        try backend.embeddingForward(out: x0, table: slice(parameters, layout.tokenEmbedding, v * c),
                                     tokens: acts.tokens.prefix(n), count: n, dim: c)
        if let wpe = layout.positionEmbedding {
            // (B, T*C) plus a (T*C) row: the position table broadcast over the batch.
            try backend.addBias(out: x0, bias: slice(parameters, wpe, length * c), rows: batch, cols: length * c)
        }
        try dropout(x0, seed: dropSeed, site: 0)

        for l in 0..<config.layers {
            try blockForward(l, acts: acts, batch: batch, length: length, dropSeed: dropSeed)
        }

        // Final norm and output head.
        let xL = acts.residual.layer(config.layers, stride: acts.capacity * c, count: n * c)
        try norm(out: acts.finalNorm.prefix(n * c), mean: acts.finalMean.prefix(n), rstd: acts.finalRstd.prefix(n),
                 input: xL, weight: layout.finalNormWeight, bias: layout.finalNormBias, rows: n)
        try backend.matmul(c: acts.logits.prefix(n * v), a: acts.finalNorm.prefix(n * c),
                           b: slice(parameters, layout.outputHead, v * c), m: n, n: v, k: c, transposeB: true)

        var loss: Float?
        var counted = 0
        if let targets {
            try backend.upload(targets, to: acts.targets.prefix(n))
            try backend.crossEntropyForward(losses: acts.losses.prefix(n), dlogits: nil,
                                            logits: acts.logits.prefix(n * v), targets: acts.targets.prefix(n),
                                            rows: n, vocabulary: v, gradientScale: 0)
            counted = targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
            let losses = try backend.download(acts.losses.prefix(n))
            var sum = 0.0
            for value in losses { sum += Double(value) }
            loss = counted > 0 ? Float(sum / Double(counted)) : 0
        }
        last = ForwardState(batch: batch, length: length, hasTargets: targets != nil, targetCount: counted,
                            dropoutSeed: dropSeed, logitsValid: true)
        return loss
    }

    private func blockForward(_ l: Int, acts: ActivationBuffers, batch: Int, length: Int, dropSeed: DropoutStream?) throws {
        let n = batch * length, c = config.embeddingDim, f = config.ffnDim, cap = acts.capacity
        let up = config.activation == .swiglu ? 2 * f : f, w = config.qkvWidth, a = config.attentionWidth
        let p = layout.blocks[l]
        let x = acts.residual.layer(l, stride: cap * c, count: n * c)
        let xMid = acts.residualMid.layer(l, stride: cap * c, count: n * c)
        let xNext = acts.residual.layer(l + 1, stride: cap * c, count: n * c)
        let norm1 = acts.norm1.layer(l, stride: cap * c, count: n * c)
        let qkv = acts.qkv.layer(l, stride: cap * w, count: n * w)
        let att = acts.attention.layer(l, stride: cap * a, count: n * a)
        let norm2 = acts.norm2.layer(l, stride: cap * c, count: n * c)
        let ffnPre = acts.ffnPre.layer(l, stride: cap * up, count: n * up)
        let ffnAct = acts.ffnAct.layer(l, stride: cap * f, count: n * f)
        let scratch = acts.dScratch.prefix(n * c)  // free during forward: holds a projection output

        // Attention sub-block: x_mid = x + dropout(proj(attention(rope(qkv(norm1(x)))))).
        try norm(out: norm1, mean: acts.norm1Mean.layer(l, stride: cap, count: n),
                 rstd: acts.norm1Rstd.layer(l, stride: cap, count: n), input: x,
                 weight: p.norm1Weight, bias: p.norm1Bias, rows: n)
        try linear(out: qkv, input: norm1, weight: p.qkvWeight, bias: p.qkvBias, rows: n, inDim: c, outDim: w)
        if config.positions == .rope {
            // The query heads and the KV heads' keys lead each row: rotate them, not the values.
            try backend.ropeForward(qkv, rows: n, sequenceLength: length, rowStride: w,
                                    heads: config.heads + config.kvHeads, headDim: config.headDim,
                                    theta: config.ropeTheta, positionOffset: 0)
        }
        try backend.attentionForward(out: att, logsumexp: acts.logsumexp.layer(l, stride: cap * config.heads,
                                                                               count: n * config.heads),
                                     qkv: qkv, batch: batch, sequenceLength: length,
                                     heads: config.heads, kvHeads: config.kvHeads, headDim: config.headDim)
        try linear(out: scratch, input: att, weight: p.attentionProjWeight, bias: p.attentionProjBias,
                   rows: n, inDim: a, outDim: c)
        try dropout(scratch, seed: dropSeed, site: 1 + 2 * l)
        try backend.add(out: xMid, a: x, b: scratch)

        // FFN sub-block: x_next = x_mid + dropout(down(act(up(norm2(x_mid))))).
        try feedForward(p, input: xMid, normed: norm2, mean: acts.norm2Mean.layer(l, stride: cap, count: n),
                        rstd: acts.norm2Rstd.layer(l, stride: cap, count: n), pre: ffnPre, act: ffnAct,
                        out: scratch, rows: n)
        try dropout(scratch, seed: dropSeed, site: 2 + 2 * l)
        try backend.add(out: xNext, a: xMid, b: scratch)
    }

    /// out = down(act(up(norm2(input)))) for one block, saving the norm, pre-activation and
    /// activation where the caller says (the training forward keeps them for backward; the KV-cache
    /// step reuses scratch).
    func feedForward(_ block: BlockOffsets, input: BufferView, normed: BufferView, mean: BufferView,
                     rstd: BufferView, pre: BufferView, act: BufferView, out: BufferView, rows n: Int) throws {
        let c = config.embeddingDim, f = config.ffnDim
        let up = config.activation == .swiglu ? 2 * f : f
        try norm(out: normed, mean: mean, rstd: rstd, input: input, weight: block.norm2Weight,
                 bias: block.norm2Bias, rows: n)
        try linear(out: pre, input: normed, weight: block.ffnUpWeight, bias: block.ffnUpBias,
                   rows: n, inDim: c, outDim: up)
        switch config.activation {
        case .gelu: try backend.geluForward(out: act, input: pre)
        case .relu: try backend.reluForward(out: act, input: pre)
        case .swiglu: try backend.swigluForward(out: act, input: pre, rows: n, hidden: f)
        }
        try linear(out: out, input: act, weight: block.ffnDownWeight, bias: block.ffnDownBias,
                   rows: n, inDim: f, outDim: c)
    }

    // MARK: - Building blocks shared with the backward pass

    /// out (N×outDim) = input (N×inDim) · Wᵀ (+ bias); W is (outDim, inDim) at `weight`.
    func linear(out: BufferView, input: BufferView, weight: Int, bias: Int?, rows: Int, inDim: Int, outDim: Int) throws {
        try backend.matmul(c: out, a: input, b: slice(parameters, weight, outDim * inDim),
                           m: rows, n: outDim, k: inDim, transposeB: true)
        if let bias {
            try backend.addBias(out: out, bias: slice(parameters, bias, outDim), rows: rows, cols: outDim)
        }
    }

    /// LayerNorm or RMSNorm, per the config (RMSNorm leaves `mean` untouched).
    func norm(out: BufferView, mean: BufferView, rstd: BufferView, input: BufferView,
              weight: Int, bias: Int?, rows: Int) throws {
        let c = config.embeddingDim
        switch config.norm {
        case .layer:
            try backend.layerNormForward(out: out, mean: mean, rstd: rstd, input: input,
                                         weight: slice(parameters, weight, c), bias: bias.map { slice(parameters, $0, c) },
                                         rows: rows, cols: c, epsilon: config.normEpsilon)
        case .rms:
            try backend.rmsNormForward(out: out, rstd: rstd, input: input, weight: slice(parameters, weight, c),
                                       rows: rows, cols: c, epsilon: config.normEpsilon)
        }
    }

    /// In-place dropout at dropout site `site` (0: embeddings, 1+2l: attention out, 2+2l: FFN out).
    /// Every site is an (N, C) tensor, so one first index serves them all.
    func dropout(_ x: BufferView, seed stream: DropoutStream?, site: Int) throws {
        guard let stream else { return }
        try backend.dropoutForward(out: x, input: x, probability: config.dropout,
                                   seed: CounterRNG.seed(stream.seed, UInt64(site)), firstIndex: stream.firstIndex)
    }

    func dropoutBackward(_ dx: BufferView, seed stream: DropoutStream?, site: Int) throws {
        guard let stream else { return }
        try backend.dropoutBackward(dinput: dx, dout: dx, probability: config.dropout,
                                    seed: CounterRNG.seed(stream.seed, UInt64(site)), firstIndex: stream.firstIndex)
    }

    private func validateInputs(tokens: [Int32], targets: [Int32]?, batch: Int, length: Int) throws {
        guard batch >= 1, length >= 1 else {
            throw ModelError.shape("batch and length must be at least 1, got B=\(batch) T=\(length)")
        }
        guard length <= config.contextLength else {
            throw ModelError.shape("sequence length \(length) exceeds the context length \(config.contextLength)")
        }
        guard tokens.count == batch * length else {
            throw ModelError.shape("expected B*T = \(batch)*\(length) = \(batch * length) tokens, got \(tokens.count)")
        }
        if let targets, targets.count != tokens.count {
            throw ModelError.shape("expected \(tokens.count) targets, got \(targets.count)")
        }
        let v = config.vocabSize
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= v }) {
            throw ModelError.tokenOutOfRange(token: bad, vocabSize: v)
        }
        if let bad = targets?.first(where: { $0 < -1 || Int($0) >= v }) {
            throw ModelError.tokenOutOfRange(token: bad, vocabSize: v)
        }
    }
}
