// The attention contract: fused causal self-attention forward and backward, and the KV-cache forward
// for decoding. Layout: qkv is (B, T, 3, NH, hs); out and dout are (B, T, C); logsumexp (B, NH, T).
// Outputs never overlap another view of the call.
// Profile record: "B=B T=T NH=NH hs=HS" ("start=S queries=Q NH=NH hs=HS" for the cached forward).
// FLOPs count 2 per multiply-add over the causal (query, key) pairs, P = B·NH·T(T+1)/2: the
// forward takes two products (q·k and p·v, 4·hs·P), the backward five (s, dP, dq, dk, dv:
// 10·hs·P). Bytes: 4 per element of each view, read or written once.

public protocol BackendAttention: AnyObject {
    /// `attentionForward(out:logsumexp:qkv:batch:sequenceLength:heads:headDim:)` after its checks.
    func uncheckedAttentionForward(out: BufferView, logsumexp: BufferView, qkv: BufferView,
                                   batch: Int, sequenceLength: Int, heads: Int, headDim: Int) throws
    /// `attentionBackward(dqkv:dout:qkv:out:logsumexp:batch:sequenceLength:heads:headDim:)` after its checks.
    func uncheckedAttentionBackward(dqkv: BufferView, dout: BufferView, qkv: BufferView, out: BufferView,
                                    logsumexp: BufferView, batch: Int, sequenceLength: Int,
                                    heads: Int, headDim: Int) throws
    /// `attentionCachedForward(out:qkv:start:queries:heads:headDim:)` after its checks. Optional:
    /// the default throws `.unsupported`, and generation then recomputes the window.
    func uncheckedAttentionCachedForward(out: BufferView, qkv: BufferView, start: Int, queries: Int,
                                         heads: Int, headDim: Int) throws
}

extension BackendAttention where Self: Backend {
    /// Backends without a KV-cache kernel say so; generation then recomputes the window.
    public func uncheckedAttentionCachedForward(out: BufferView, qkv: BufferView, start: Int, queries: Int,
                                                heads: Int, headDim: Int) throws {
        throw BackendError.unsupported(op: Op.attentionCachedForward.rawValue, backend: name,
                                       reason: "no KV-cache attention kernel")
    }
}

extension Backend {
    /// Fused causal self-attention. For every (b, h, t): s_j = q_t·k_j / sqrt(hs) for j <= t,
    /// out[b, t, h, :] = sum_j softmax(s)_j v_j. Writes out (B, T, C) and the per-row
    /// logsumexp of the scaled scores (B, NH, T), which the backward uses. OVERWRITES both.
    /// Equivalent unfused code: scores = Q K^T / sqrt(hs); mask j > t to -inf; P = softmax(scores);
    /// out = P V.
    public func attentionForward(out: BufferView, logsumexp: BufferView, qkv: BufferView,
                                 batch: Int, sequenceLength: Int, heads: Int, headDim: Int) throws {
        let check = try OpCheck(.attentionForward, on: self)
        let (B, T, NH, hs) = (batch, sequenceLength, heads, headDim)
        try check.positive(["batch": B, "sequenceLength": T, "heads": NH, "headDim": hs])
        try check.floats(["out": out, "logsumexp": logsumexp, "qkv": qkv])
        try check.count("qkv", qkv, B * T * 3 * NH * hs)
        try check.count("out", out, B * T * NH * hs)
        try check.count("logsumexp", logsumexp, B * NH * T)
        try check.separate([("out", out), ("logsumexp", logsumexp), ("qkv", qkv)])
        try check.run(check.attentionRecord(B, T, NH, hs, products: 2,
                                            elements: qkv.count + out.count + logsumexp.count)) {
            try uncheckedAttentionForward(out: out, logsumexp: logsumexp, qkv: qkv, batch: B, sequenceLength: T,
                                          heads: NH, headDim: hs)
        }
    }

    /// Gradients for q, k, v into dqkv (B, T, 3C), recomputing P from qkv and logsumexp
    /// (uses out for D_t = dout_t·out_t). With P_tj = exp(s_tj - logsumexp_t), dP_tj = dout_t·v_j
    /// and dS_tj = P_tj (dP_tj - D_t): dq_t = sum_j dS_tj k_j / sqrt(hs), dk_j = sum_t dS_tj q_t /
    /// sqrt(hs), dv_j = sum_t P_tj dout_t (j <= t). OVERWRITES dqkv.
    public func attentionBackward(dqkv: BufferView, dout: BufferView, qkv: BufferView, out: BufferView,
                                  logsumexp: BufferView, batch: Int, sequenceLength: Int,
                                  heads: Int, headDim: Int) throws {
        let check = try OpCheck(.attentionBackward, on: self)
        let (B, T, NH, hs) = (batch, sequenceLength, heads, headDim)
        try check.positive(["batch": B, "sequenceLength": T, "heads": NH, "headDim": hs])
        try check.floats(["dqkv": dqkv, "dout": dout, "qkv": qkv, "out": out, "logsumexp": logsumexp])
        try check.count("qkv", qkv, B * T * 3 * NH * hs)
        try check.count("dqkv", dqkv, B * T * 3 * NH * hs)
        try check.count("out", out, B * T * NH * hs)
        try check.count("dout", dout, B * T * NH * hs)
        try check.count("logsumexp", logsumexp, B * NH * T)
        try check.separate(("dqkv", dqkv), from: [("dout", dout), ("qkv", qkv), ("out", out),
                                                  ("logsumexp", logsumexp)])
        let elements = 2 * qkv.count + 2 * out.count + logsumexp.count
        try check.run(check.attentionRecord(B, T, NH, hs, products: 5, elements: elements)) {
            try uncheckedAttentionBackward(dqkv: dqkv, dout: dout, qkv: qkv, out: out, logsumexp: logsumexp,
                                           batch: B, sequenceLength: T, heads: NH, headDim: hs)
        }
    }

    /// Causal attention for `queries` new tokens of ONE sequence against its KV cache (inference).
    /// qkv holds rows 0..<(start + queries), each (3, NH, hs) as in `attentionForward`: rows
    /// 0..<start are cached tokens, rows start..<start+queries the new ones. For each new row t:
    ///   out[t - start] = sum_{j <= t} softmax_j(q_t·k_j / sqrt(hs)) v_j.   out is (queries, C).
    /// Equals rows start..<start+queries of `attentionForward` over the whole prefix. OVERWRITES.
    public func attentionCachedForward(out: BufferView, qkv: BufferView, start: Int, queries: Int,
                                       heads: Int, headDim: Int) throws {
        let check = try OpCheck(.attentionCachedForward, on: self)
        try check.positive(["queries": queries, "heads": heads, "headDim": headDim])
        try check.nonNegative(["start": start])
        try check.floats(["out": out, "qkv": qkv])
        let channels = heads * headDim
        try check.count("qkv", qkv, (start + queries) * 3 * channels)
        try check.count("out", out, queries * channels)
        try check.separate(("out", out), from: [("qkv", qkv)])
        // Query start + i sees start + i + 1 keys.
        let pairs = Double(heads) * (Double(queries) * Double(start) + Double(queries) * Double(queries + 1) / 2)
        try check.run(check.record("start=\(start) queries=\(queries) NH=\(heads) hs=\(headDim)",
                                   flops: 4 * Double(headDim) * pairs, bytes: 4 * Double(qkv.count + out.count))) {
            try uncheckedAttentionCachedForward(out: out, qkv: qkv, start: start, queries: queries, heads: heads,
                                                headDim: headDim)
        }
    }
}

extension OpCheck {
    /// "B= T= NH= hs=", `products` causal products of 2·hs FLOPs per (query, key) pair, and 4 bytes
    /// per element of the views.
    fileprivate func attentionRecord(_ B: Int, _ T: Int, _ NH: Int, _ hs: Int, products: Double,
                                     elements: Int) -> OpRecord {
        let pairs = Double(B * NH) * Double(T) * Double(T + 1) / 2
        return record("B=\(B) T=\(T) NH=\(NH) hs=\(hs)", flops: products * 2 * Double(hs) * pairs,
                      bytes: 4 * Double(elements))
    }
}

extension ForwardingBackend {
    public func uncheckedAttentionForward(out: BufferView, logsumexp: BufferView, qkv: BufferView,
                                          batch: Int, sequenceLength: Int, heads: Int, headDim: Int) throws {
        try forwardee.uncheckedAttentionForward(out: out, logsumexp: logsumexp, qkv: qkv, batch: batch,
                                                sequenceLength: sequenceLength, heads: heads, headDim: headDim)
    }
    public func uncheckedAttentionBackward(dqkv: BufferView, dout: BufferView, qkv: BufferView, out: BufferView,
                                           logsumexp: BufferView, batch: Int, sequenceLength: Int,
                                           heads: Int, headDim: Int) throws {
        try forwardee.uncheckedAttentionBackward(dqkv: dqkv, dout: dout, qkv: qkv, out: out, logsumexp: logsumexp,
                                                 batch: batch, sequenceLength: sequenceLength, heads: heads,
                                                 headDim: headDim)
    }
    public func uncheckedAttentionCachedForward(out: BufferView, qkv: BufferView, start: Int, queries: Int,
                                                heads: Int, headDim: Int) throws {
        try forwardee.uncheckedAttentionCachedForward(out: out, qkv: qkv, start: start, queries: queries,
                                                      heads: heads, headDim: headDim)
    }
}
