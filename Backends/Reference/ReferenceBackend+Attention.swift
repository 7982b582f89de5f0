// Causal self-attention for the reference backend, written as the plain composition (it is the
// oracle the fused kernels are checked against): for every (b, h, t), scores against keys j <= t in
// Double, a max-subtracted softmax, then the weighted sum of values.
//
// Layout (grouped-query attention): qkv is (B, T, NH + 2·KVH, hs), each row the NH query heads,
// then the KVH keys, then the KVH values; query head h reads KV head h / (NH / KVH). out and dout
// are (B, T, C); logsumexp is (B, NH, T).
// The forward runs (b, h) pairs in parallel: each reads its own q column and its KV head's k/v and
// writes only its own out and logsumexp. The backward runs (b, KV head) pairs: dk/dv of a KV head
// sum over its group's query heads, so one pair owns them all and needs no synchronisation.

import Compute
import HostMemory

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where each head's q, k and v sit in a qkv row, for the reference's attention loops.
struct ReferenceAttentionRows {
    let heads: Int, kvHeads: Int, headDim: Int
    /// Query heads per KV head.
    var groupSize: Int { heads / kvHeads }
    /// C = NH·hs: the width of out and dout rows.
    var channels: Int { heads * headDim }
    /// (NH + 2·KVH)·hs: the width of a qkv row.
    var rowWidth: Int { (heads + 2 * kvHeads) * headDim }
    func query(_ h: Int) -> Int { h * headDim }
    func key(_ g: Int) -> Int { channels + g * headDim }
    func value(_ g: Int) -> Int { channels + (kvHeads + g) * headDim }
}

extension ReferenceBackend {
    /// Scores, softmax and the weighted sum per (b, h, t) in Double, the plain composition; saves
    /// the logsumexp of each row's scores for the backward.
    public func uncheckedAttentionForward(out: BufferView, logsumexp: BufferView, qkv: BufferView, batch: Int,
                                          sequenceLength: Int, heads: Int, kvHeads: Int, headDim: Int) throws {
        let (B, T, NH, hs) = (batch, sequenceLength, heads, headDim)
        let rows = ReferenceAttentionRows(heads: NH, kvHeads: kvHeads, headDim: hs)
        let C = rows.channels, W = rows.rowWidth
        let x = qkv.hostFloats, y = out.hostFloats, lse = logsumexp.hostFloats
        let scale = 1 / Double(hs).squareRoot()

        parallelFor(B * NH) { pairs in
            var scores = [Double](repeating: 0, count: T)
            var sum = [Double](repeating: 0, count: hs)
            for pair in pairs {
                let (b, h) = pair.quotientAndRemainder(dividingBy: NH)
                let g = h / rows.groupSize
                @inline(__always) func token(_ t: Int) -> UnsafeMutablePointer<Float> { x + (b * T + t) * W }
                for t in 0..<T {
                    let q = token(t) + rows.query(h)
                    var maximum = -Double.infinity
                    for j in 0...t {
                        scores[j] = Self.dot(q, token(j) + rows.key(g), hs) * scale
                        maximum = max(maximum, scores[j])
                    }
                    var total = 0.0
                    for j in 0...t {
                        scores[j] = exp(scores[j] - maximum)
                        total += scores[j]
                    }
                    for d in 0..<hs { sum[d] = 0 }
                    for j in 0...t {
                        let p = scores[j] / total, v = token(j) + rows.value(g)
                        for d in 0..<hs { sum[d] += p * Double(v[d]) }
                    }
                    let outRow = y + (b * T + t) * C + h * hs
                    for d in 0..<hs { outRow[d] = Float(sum[d]) }
                    lse[(b * NH + h) * T + t] = Float(maximum + log(total))
                }
            }
        }
    }

    /// With P_tj = exp(s_tj - logsumexp_t), D_t = dout_t·out_t, dP_tj = dout_t·v_j and
    /// dS_tj = P_tj (dP_tj - D_t), per query head h:  dq_t = scale sum_j dS_tj k_j, and for its KV
    /// head, summed over the group's query heads:  dk_j = scale sum_h sum_t dS_tj q_t,
    /// dv_j = sum_h sum_t P_tj dout_t  (j <= t; scale = 1/sqrt(hs)).
    public func uncheckedAttentionBackward(dqkv: BufferView, dout: BufferView, qkv: BufferView, out: BufferView,
                                           logsumexp: BufferView, batch: Int, sequenceLength: Int,
                                           heads: Int, kvHeads: Int, headDim: Int) throws {
        let (B, T, NH, KVH, hs) = (batch, sequenceLength, heads, kvHeads, headDim)
        let rows = ReferenceAttentionRows(heads: NH, kvHeads: KVH, headDim: hs)
        let C = rows.channels, W = rows.rowWidth
        let x = qkv.hostFloats, dx = dqkv.hostFloats, y = out.hostFloats, dy = dout.hostFloats, lse = logsumexp.hostFloats
        let scale = 1 / Double(hs).squareRoot()

        parallelFor(B * KVH) { pairs in
            // Per-chunk Double scratch (raw pointers: the inner loop is the hot path).
            let dq = UnsafeMutablePointer<Double>.allocate(capacity: hs)
            let dk = UnsafeMutablePointer<Double>.allocate(capacity: T * hs)
            let dv = UnsafeMutablePointer<Double>.allocate(capacity: T * hs)
            defer {
                dq.deallocate()
                dk.deallocate()
                dv.deallocate()
            }
            for pair in pairs {
                let (b, g) = pair.quotientAndRemainder(dividingBy: KVH)
                @inline(__always) func token(_ t: Int) -> Int { (b * T + t) * W }
                dk.update(repeating: 0, count: T * hs)
                dv.update(repeating: 0, count: T * hs)
                for h in (g * rows.groupSize)..<((g + 1) * rows.groupSize) {
                    for t in 0..<T {
                        let q = x + token(t) + rows.query(h)
                        let gradient = dy + (b * T + t) * C + h * hs, output = y + (b * T + t) * C + h * hs
                        let dotOut = Self.dot(gradient, output, hs)
                        let rowLSE = Double(lse[(b * NH + h) * T + t])
                        dq.update(repeating: 0, count: hs)
                        for j in 0...t {
                            let k = x + token(j) + rows.key(g), v = x + token(j) + rows.value(g)
                            let p = exp(Self.dot(q, k, hs) * scale - rowLSE)
                            let dP = Self.dot(gradient, v, hs)
                            let dS = p * (dP - dotOut) * scale
                            let dkRow = dk + j * hs, dvRow = dv + j * hs
                            for d in 0..<hs {
                                dq[d] += dS * Double(k[d])
                                dkRow[d] += dS * Double(q[d])
                                dvRow[d] += p * Double(gradient[d])
                            }
                        }
                        let dqRow = dx + token(t) + rows.query(h)
                        for d in 0..<hs { dqRow[d] = Float(dq[d]) }
                    }
                }
                for j in 0..<T {
                    let dkRow = dx + token(j) + rows.key(g), dvRow = dx + token(j) + rows.value(g)
                    for d in 0..<hs {
                        dkRow[d] = Float(dk[j * hs + d])
                        dvRow[d] = Float(dv[j * hs + d])
                    }
                }
            }
        }
    }
}
