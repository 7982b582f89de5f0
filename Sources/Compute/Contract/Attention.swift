// The attention contract: fused causal self-attention forward and backward, and the KV-cache forward
// for decoding, all with grouped-query attention (GQA).
//
// NH query heads share KVH key/value heads, NH % KVH == 0: query head h reads KV head
// h / (NH / KVH), so each KV head serves a group of NH / KVH consecutive query heads (KVH = NH is
// ordinary multi-head attention, KVH = 1 multi-query attention).
// Layout: qkv is (B, T, NH + 2·KVH, hs): each token's row holds its NH query heads, then the KVH
// keys, then the KVH values, W = (NH + 2·KVH)·hs floats (3C when KVH = NH). out and dout are
// (B, T, C) with C = NH·hs; logsumexp is (B, NH, T). The cached forward takes the new rows' queries
// (Q, NH, hs) and the cache, (T, 2, KVH, hs): the keys and values of every row so far, which is the
// tail of a qkv row, so a cache holds KV heads only. Outputs never overlap another view of the call.
// Profile record: "B=B T=T NH=NH KVH=KVH hs=HS" ("start=S queries=Q NH=NH KVH=KVH hs=HS" for the
// cached forward). FLOPs count 2 per multiply-add over the causal (query, key) pairs of every QUERY
// head, P = B·NH·T(T+1)/2 (sharing K and V saves memory, not products): the forward takes two
// products (q·k and p·v, 4·hs·P), the backward five (s, dP, dq, dk, dv: 10·hs·P). Bytes: 4 per
// element of each view, read or written once.

/// The attention family's requirements: fused causal attention (with grouped-query heads) forward
/// and backward, and one decoding step against a KV cache. A backend implements these; callers use
/// the checked entry points below.
public protocol BackendAttention: AnyObject {
    /// `attentionForward(out:logsumexp:qkv:batch:sequenceLength:heads:kvHeads:headDim:)` after its checks.
    func uncheckedAttentionForward(out: BufferView, logsumexp: BufferView, qkv: BufferView, batch: Int,
                                   sequenceLength: Int, heads: Int, kvHeads: Int, headDim: Int) throws
    /// `attentionBackward(dqkv:dout:qkv:out:logsumexp:batch:sequenceLength:heads:kvHeads:headDim:)`
    /// after its checks.
    func uncheckedAttentionBackward(dqkv: BufferView, dout: BufferView, qkv: BufferView, out: BufferView,
                                    logsumexp: BufferView, batch: Int, sequenceLength: Int,
                                    heads: Int, kvHeads: Int, headDim: Int) throws
    /// `attentionCachedForward(out:query:keysValues:start:queries:heads:kvHeads:headDim:)` after its
    /// checks. Optional: the default throws `.unsupported`, and generation then recomputes the window.
    func uncheckedAttentionCachedForward(out: BufferView, query: BufferView, keysValues: BufferView, start: Int,
                                         queries: Int, heads: Int, kvHeads: Int, headDim: Int) throws
}

extension BackendAttention where Self: Backend {
    /// Backends without a KV-cache kernel say so; generation then recomputes the window.
    public func uncheckedAttentionCachedForward(out: BufferView, query: BufferView, keysValues: BufferView,
                                                start: Int, queries: Int, heads: Int, kvHeads: Int,
                                                headDim: Int) throws {
        throw BackendError.unsupported(op: Op.attentionCachedForward.rawValue, backend: name,
                                       reason: "no KV-cache attention kernel")
    }
}

extension Backend {
    /// Fused causal self-attention. For every (b, h, t), with g = h / (NH / KVH) the KV head of
    /// query head h: s_j = q_t·k_j / sqrt(hs) for j <= t (k_j, v_j of head g), and
    /// out[b, t, h, :] = sum_j softmax(s)_j v_j. Writes out (B, T, C) and the per-row logsumexp of
    /// the scaled scores (B, NH, T), which the backward uses. OVERWRITES both.
    /// Equivalent unfused code, per query head h: scores = Q_h K_gᵀ / sqrt(hs); mask j > t to -inf;
    /// P = softmax(scores); out_h = P V_g.
    public func attentionForward(out: BufferView, logsumexp: BufferView, qkv: BufferView, batch: Int,
                                 sequenceLength: Int, heads: Int, kvHeads: Int, headDim: Int) throws {
        let check = try OpCheck(.attentionForward, on: self)
        let (B, T, NH, KVH, hs) = (batch, sequenceLength, heads, kvHeads, headDim)
        try check.heads(["batch": B, "sequenceLength": T], heads: NH, kvHeads: KVH, headDim: hs)
        try check.floats(["out": out, "logsumexp": logsumexp, "qkv": qkv])
        try check.count("qkv", qkv, B * T * (NH + 2 * KVH) * hs)
        try check.count("out", out, B * T * NH * hs)
        try check.count("logsumexp", logsumexp, B * NH * T)
        try check.separate([("out", out), ("logsumexp", logsumexp), ("qkv", qkv)])
        try check.run(check.attentionRecord(B, T, NH, KVH, hs, products: 2,
                                            elements: qkv.count + out.count + logsumexp.count)) {
            try uncheckedAttentionForward(out: out, logsumexp: logsumexp, qkv: qkv, batch: B, sequenceLength: T,
                                          heads: NH, kvHeads: KVH, headDim: hs)
        }
    }

    /// Gradients for q, k, v into dqkv (B, T, NH + 2·KVH, hs), recomputing P from qkv and
    /// logsumexp (uses out for D_t = dout_t·out_t). Per query head h (KV head g), with
    /// P_tj = exp(s_tj - logsumexp_t), dP_tj = dout_t·v_j and dS_tj = P_tj (dP_tj - D_t):
    /// dq_t = sum_j dS_tj k_j / sqrt(hs); and for KV head g, summed over the query heads h of its
    /// group: dk_j = sum_h sum_t dS_tj q_t / sqrt(hs), dv_j = sum_h sum_t P_tj dout_t (j <= t).
    /// OVERWRITES dqkv.
    public func attentionBackward(dqkv: BufferView, dout: BufferView, qkv: BufferView, out: BufferView,
                                  logsumexp: BufferView, batch: Int, sequenceLength: Int,
                                  heads: Int, kvHeads: Int, headDim: Int) throws {
        let check = try OpCheck(.attentionBackward, on: self)
        let (B, T, NH, KVH, hs) = (batch, sequenceLength, heads, kvHeads, headDim)
        try check.heads(["batch": B, "sequenceLength": T], heads: NH, kvHeads: KVH, headDim: hs)
        try check.floats(["dqkv": dqkv, "dout": dout, "qkv": qkv, "out": out, "logsumexp": logsumexp])
        try check.count("qkv", qkv, B * T * (NH + 2 * KVH) * hs)
        try check.count("dqkv", dqkv, B * T * (NH + 2 * KVH) * hs)
        try check.count("out", out, B * T * NH * hs)
        try check.count("dout", dout, B * T * NH * hs)
        try check.count("logsumexp", logsumexp, B * NH * T)
        try check.separate(("dqkv", dqkv), from: [("dout", dout), ("qkv", qkv), ("out", out),
                                                  ("logsumexp", logsumexp)])
        let elements = 2 * qkv.count + 2 * out.count + logsumexp.count
        try check.run(check.attentionRecord(B, T, NH, KVH, hs, products: 5, elements: elements)) {
            try uncheckedAttentionBackward(dqkv: dqkv, dout: dout, qkv: qkv, out: out, logsumexp: logsumexp,
                                           batch: B, sequenceLength: T, heads: NH, kvHeads: KVH, headDim: hs)
        }
    }

    /// Causal attention for `queries` new tokens of ONE sequence against its KV cache (inference).
    /// query (queries, NH, hs) holds the new rows' query heads; keysValues (start + queries, 2, KVH,
    /// hs) holds each row's keys then values: rows 0..<start are cached tokens, rows
    /// start..<start+queries the new ones (already written). For each new row t = start + i and
    /// query head h (KV head g = h / (NH / KVH)):
    ///   out[i, h] = sum_{j <= t} softmax_j(q_ih·k_jg / sqrt(hs)) v_jg.   out is (queries, C).
    /// Equals rows start..<start+queries of `attentionForward` over the whole prefix. OVERWRITES.
    public func attentionCachedForward(out: BufferView, query: BufferView, keysValues: BufferView, start: Int,
                                       queries: Int, heads: Int, kvHeads: Int, headDim: Int) throws {
        let check = try OpCheck(.attentionCachedForward, on: self)
        let (NH, KVH, hs) = (heads, kvHeads, headDim)
        try check.heads(["queries": queries], heads: NH, kvHeads: KVH, headDim: hs)
        try check.nonNegative(["start": start])
        try check.floats(["out": out, "query": query, "keysValues": keysValues])
        try check.count("query", query, queries * NH * hs)
        try check.count("keysValues", keysValues, (start + queries) * 2 * KVH * hs)
        try check.count("out", out, queries * NH * hs)
        try check.separate(("out", out), from: [("query", query), ("keysValues", keysValues)])
        // Query start + i sees start + i + 1 keys.
        let pairs = Double(NH) * (Double(queries) * Double(start) + Double(queries) * Double(queries + 1) / 2)
        let elements = query.count + keysValues.count + out.count
        try check.run(check.record("start=\(start) queries=\(queries) NH=\(NH) KVH=\(KVH) hs=\(hs)",
                                   flops: 4 * Double(hs) * pairs, bytes: 4 * Double(elements))) {
            try uncheckedAttentionCachedForward(out: out, query: query, keysValues: keysValues, start: start,
                                                queries: queries, heads: NH, kvHeads: KVH, headDim: hs)
        }
    }
}

extension OpCheck {
    /// The sizes are positive and the query heads split evenly into KV-head groups.
    fileprivate func heads(_ sizes: KeyValuePairs<String, Int>, heads: Int, kvHeads: Int, headDim: Int) throws {
        try positive(sizes)
        try positive(["heads": heads, "kvHeads": kvHeads, "headDim": headDim])
        try require(heads % kvHeads == 0,
                    "heads (\(heads)) must be a multiple of kvHeads (\(kvHeads)): each KV head serves a whole group")
    }

    /// "B= T= NH= KVH= hs=", `products` causal products of 2·hs FLOPs per (query, key) pair of every
    /// query head, and 4 bytes per element of the views.
    fileprivate func attentionRecord(_ B: Int, _ T: Int, _ NH: Int, _ KVH: Int, _ hs: Int, products: Double,
                                     elements: Int) -> OpRecord {
        let pairs = Double(B * NH) * Double(T) * Double(T + 1) / 2
        return record("B=\(B) T=\(T) NH=\(NH) KVH=\(KVH) hs=\(hs)", flops: products * 2 * Double(hs) * pairs,
                      bytes: 4 * Double(elements))
    }
}

extension ForwardingBackend {
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedAttentionForward(out: BufferView, logsumexp: BufferView, qkv: BufferView, batch: Int,
                                          sequenceLength: Int, heads: Int, kvHeads: Int, headDim: Int) throws {
        try forwardee.uncheckedAttentionForward(out: out, logsumexp: logsumexp, qkv: qkv, batch: batch,
                                                sequenceLength: sequenceLength, heads: heads, kvHeads: kvHeads,
                                                headDim: headDim)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedAttentionBackward(dqkv: BufferView, dout: BufferView, qkv: BufferView, out: BufferView,
                                           logsumexp: BufferView, batch: Int, sequenceLength: Int,
                                           heads: Int, kvHeads: Int, headDim: Int) throws {
        try forwardee.uncheckedAttentionBackward(dqkv: dqkv, dout: dout, qkv: qkv, out: out, logsumexp: logsumexp,
                                                 batch: batch, sequenceLength: sequenceLength, heads: heads,
                                                 kvHeads: kvHeads, headDim: headDim)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedAttentionCachedForward(out: BufferView, query: BufferView, keysValues: BufferView,
                                                start: Int, queries: Int, heads: Int, kvHeads: Int,
                                                headDim: Int) throws {
        try forwardee.uncheckedAttentionCachedForward(out: out, query: query, keysValues: keysValues, start: start,
                                                      queries: queries, heads: heads, kvHeads: kvHeads,
                                                      headDim: headDim)
    }
}
