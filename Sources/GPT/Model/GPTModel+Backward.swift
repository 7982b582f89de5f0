// The backward pass: the forward's op list reversed, fed by what the forward saved.
// Weight gradients ACCUMULATE into `gradients` (call zeroGradients() once per optimizer step, so
// several micro-batches can accumulate); activation gradients live in reused scratch buffers.
// After each stage (the output head and final norm, each block, the embeddings) the caller may be
// told that the stage's gradients are final: data-parallel training starts reducing them then,
// while the rest of the backward pass runs.

import Compute

/// A point of the backward pass after which some parameters' gradients are final, in the order
/// backward reaches them: `head`, `block(L-1)` ... `block(0)`, `embeddings`.
public enum BackwardStage: Hashable, Sendable {
    /// The final norm and an untied output head.
    case head
    /// One transformer block's tensors.
    case block(Int)
    /// The token embedding (with a tied output head, its gradient is final only here) and the
    /// position table.
    case embeddings
}

extension GPTModel {
    /// Every stage, in the order backward finishes them.
    public var backwardStages: [BackwardStage] {
        [.head] + (0..<config.layers).reversed().map { .block($0) } + [.embeddings]
    }

    /// The stage after which `entry`'s gradient is final.
    public func backwardStage(of entry: ParameterEntry) -> BackwardStage {
        if let block = entry.block { return .block(block) }
        var head = [layout.finalNormWeight] + (layout.finalNormBias.map { [$0] } ?? [])
        if !config.tiedEmbeddings { head.append(layout.outputHead) }
        return head.contains(entry.offset) ? .head : .embeddings
    }

    /// Gradients of `lossScale` × the last forward's mean loss with respect to every trainable
    /// parameter, added to `gradients`. The logits buffer becomes dlogits. Gradient accumulation
    /// over k micro-batches passes lossScale = 1/k, so the sum is the gradient of the mean.
    /// `stageFinished` is called after each stage (see `BackwardStage`), once its gradients are
    /// final (queued: a device backend may still be computing them).
    public func backward(lossScale: Float = 1, stageFinished: ((BackwardStage) throws -> Void)? = nil) throws {
        guard var state = last, state.hasTargets, state.logitsValid else {
            throw ModelError.state("must forward with targets before backward")
        }
        let acts = activations!
        let n = state.batch * state.length, c = config.embeddingDim, v = config.vocabSize
        let dResidual = acts.dResidual.prefix(n * c), dNorm = acts.dNorm.prefix(n * c)

        // Loss → dlogits (in place): d(mean loss)/d logits = (softmax - onehot) / count.
        let logits = acts.logits.prefix(n * v)
        let scale = state.targetCount > 0 ? lossScale / Float(state.targetCount) : 0
        try backend.crossEntropyForward(losses: acts.losses.prefix(n), dlogits: logits, logits: logits,
                                        targets: acts.targets.prefix(n), rows: n, vocabulary: v,
                                        gradientScale: scale)
        state.logitsValid = false
        last = state

        // Output head (tied: accumulates into the token embedding's gradient) and final norm.
        try linearBackward(dinput: dNorm, dout: logits, input: acts.finalNorm.prefix(n * c),
                           weight: layout.outputHead, bias: nil, rows: n, inDim: c, outDim: v)
        try backend.fill(dResidual, with: 0)
        let xL = acts.residual.layer(config.layers, stride: acts.capacity * c, count: n * c)
        try normBackward(dinput: dResidual, dout: dNorm, input: xL, mean: acts.finalMean.prefix(n),
                         rstd: acts.finalRstd.prefix(n), weight: layout.finalNormWeight,
                         bias: layout.finalNormBias, rows: n)
        try stageFinished?(.head)

        for l in (0..<config.layers).reversed() {
            try blockBackward(l, acts: acts, state: state)
            try stageFinished?(.block(l))
        }

        // Embeddings: dropout, positions (a broadcast add over the batch), tokens.
        try dropoutBackward(dResidual, seed: state.dropoutSeed, site: 0)
        if let wpe = layout.positionEmbedding, config.positions == .learned {
            try backend.biasBackward(dbias: slice(gradients, wpe, state.length * c), dout: dResidual,
                                     rows: state.batch, cols: state.length * c)
        }
        try backend.embeddingBackward(dtable: slice(gradients, layout.tokenEmbedding, v * c), dout: dResidual,
                                      tokens: acts.tokens.prefix(n), count: n, dim: c)
        try stageFinished?(.embeddings)
    }

    /// On entry dResidual holds dL/d x_{l+1}; on exit dL/d x_l.
    private func blockBackward(_ l: Int, acts: ActivationBuffers, state: ForwardState) throws {
        let n = state.batch * state.length, c = config.embeddingDim, f = config.ffnDim, cap = acts.capacity
        let up = config.activation == .swiglu ? 2 * f : f, w = config.qkvWidth, a = config.attentionWidth
        let p = layout.blocks[l]
        let dResidual = acts.dResidual.prefix(n * c), dScratch = acts.dScratch.prefix(n * c)
        // dNorm also holds the attention's gradient (N, A) between the output projection and the
        // attention backward, when nothing else is in it.
        let dNorm = acts.dNorm.prefix(n * c), dAtt = acts.dNorm.prefix(n * a)
        let dQKV = acts.dQKV.prefix(n * w), dPre = acts.dFFNPre.prefix(n * up), dAct = acts.dFFNAct.prefix(n * f)
        let x = acts.residual.layer(l, stride: cap * c, count: n * c)
        let xMid = acts.residualMid.layer(l, stride: cap * c, count: n * c)
        let qkv = acts.qkv.layer(l, stride: cap * w, count: n * w)
        let att = acts.attention.layer(l, stride: cap * a, count: n * a)
        let ffnPre = acts.ffnPre.layer(l, stride: cap * up, count: n * up)
        let ffnAct = acts.ffnAct.layer(l, stride: cap * f, count: n * f)

        // FFN: x_next = x_mid + dropout(down(act(up(norm2(x_mid))))).
        let dFFNOut = try droppedGradient(dResidual, scratch: dScratch, seed: state.dropoutSeed, site: 2 + 2 * l)
        try linearBackward(dinput: dAct, dout: dFFNOut, input: ffnAct, weight: p.ffnDownWeight,
                           bias: p.ffnDownBias, rows: n, inDim: f, outDim: c)
        switch config.activation {
        case .gelu: try backend.geluBackward(dinput: dPre, dout: dAct, input: ffnPre)
        case .relu: try backend.reluBackward(dinput: dPre, dout: dAct, input: ffnPre)
        case .swiglu: try backend.swigluBackward(dinput: dPre, dout: dAct, input: ffnPre, rows: n, hidden: f)
        }
        try linearBackward(dinput: dNorm, dout: dPre, input: acts.norm2.layer(l, stride: cap * c, count: n * c),
                           weight: p.ffnUpWeight, bias: p.ffnUpBias, rows: n, inDim: c, outDim: up)
        try normBackward(dinput: dResidual, dout: dNorm, input: xMid,
                         mean: acts.norm2Mean.layer(l, stride: cap, count: n),
                         rstd: acts.norm2Rstd.layer(l, stride: cap, count: n),
                         weight: p.norm2Weight, bias: p.norm2Bias, rows: n)

        // Attention: x_mid = x + dropout(proj(attention(rope(qkv(norm1(x)))))).
        let dProjOut = try droppedGradient(dResidual, scratch: dScratch, seed: state.dropoutSeed, site: 1 + 2 * l)
        try linearBackward(dinput: dAtt, dout: dProjOut, input: att, weight: p.attentionProjWeight,
                           bias: p.attentionProjBias, rows: n, inDim: a, outDim: c)
        try backend.attentionBackward(dqkv: dQKV, dout: dAtt, qkv: qkv, out: att,
                                      logsumexp: acts.logsumexp.layer(l, stride: cap * config.heads,
                                                                      count: n * config.heads),
                                      batch: state.batch, sequenceLength: state.length,
                                      heads: config.heads, kvHeads: config.kvHeads, headDim: config.headDim)
        if config.positions == .rope {
            try backend.ropeBackward(dQKV, rows: n, sequenceLength: state.length, rowStride: w,
                                     heads: config.heads + config.kvHeads, headDim: config.headDim,
                                     theta: config.ropeTheta, positionOffset: 0)
        }
        try linearBackward(dinput: dNorm, dout: dQKV, input: acts.norm1.layer(l, stride: cap * c, count: n * c),
                           weight: p.qkvWeight, bias: p.qkvBias, rows: n, inDim: c, outDim: w)
        try normBackward(dinput: dResidual, dout: dNorm, input: x,
                         mean: acts.norm1Mean.layer(l, stride: cap, count: n),
                         rstd: acts.norm1Rstd.layer(l, stride: cap, count: n),
                         weight: p.norm1Weight, bias: p.norm1Bias, rows: n)
    }

    /// The gradient at a block's dropout site, from dResidual (dL/d x_next, still needed by the
    /// norm backward after it): dResidual itself when dropout is off (the linear backward only
    /// reads it), else a copy in `scratch` with the site's mask applied.
    private func droppedGradient(_ dResidual: BufferView, scratch: BufferView, seed stream: DropoutStream?,
                                 site: Int) throws -> BufferView {
        guard stream != nil else { return dResidual }
        try backend.copy(from: dResidual, to: scratch)
        try dropoutBackward(scratch, seed: stream, site: site)
        return scratch
    }

    /// For out = input · Wᵀ + b: dW += doutᵀ · input, db += column sums of dout,
    /// dinput = dout · W (OVERWRITES dinput).
    private func linearBackward(dinput: BufferView, dout: BufferView, input: BufferView, weight: Int, bias: Int?,
                                rows: Int, inDim: Int, outDim: Int) throws {
        if let bias {
            try backend.biasBackward(dbias: slice(gradients, bias, outDim), dout: dout, rows: rows, cols: outDim)
        }
        try backend.matmul(c: slice(gradients, weight, outDim * inDim), a: dout, b: input,
                           m: outDim, n: inDim, k: rows, transposeA: true, beta: 1)
        try backend.matmul(c: dinput, a: dout, b: slice(parameters, weight, outDim * inDim),
                           m: rows, n: inDim, k: outDim)
    }

    /// Norm backward; ACCUMULATES into dinput (the residual stream's gradient).
    private func normBackward(dinput: BufferView, dout: BufferView, input: BufferView, mean: BufferView,
                              rstd: BufferView, weight: Int, bias: Int?, rows: Int) throws {
        let c = config.embeddingDim
        switch config.norm {
        case .layer:
            try backend.layerNormBackward(dinput: dinput, dweight: slice(gradients, weight, c),
                                          dbias: bias.map { slice(gradients, $0, c) }, dout: dout, input: input,
                                          weight: slice(parameters, weight, c), mean: mean, rstd: rstd,
                                          rows: rows, cols: c)
        case .rms:
            try backend.rmsNormBackward(dinput: dinput, dweight: slice(gradients, weight, c), dout: dout,
                                        input: input, weight: slice(parameters, weight, c), rstd: rstd,
                                        rows: rows, cols: c)
        }
    }
}
