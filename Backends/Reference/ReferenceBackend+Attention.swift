// Causal self-attention for the reference backend, written as the plain composition (it is the
// oracle the fused kernels are checked against): for every (b, h, t), scores against keys j <= t in
// Double, a max-subtracted softmax, then the weighted sum of values.
//
// Parallel over (b, h) pairs: each pair reads only its own q/k/v columns and writes only its own
// out, logsumexp and dq/dk/dv columns, so the backward's dk/dv sums over t need no synchronisation.
// Layout: qkv is (B, T, 3, NH, hs); out and dout are (B, T, C); logsumexp is (B, NH, T).

import Compute
import HostMemory

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ReferenceBackend {
    public func uncheckedAttentionForward(out: BufferView, logsumexp: BufferView, qkv: BufferView,
                                          batch: Int, sequenceLength: Int, heads: Int, headDim: Int) throws {
        let (B, T, NH, hs) = (batch, sequenceLength, heads, headDim)
        let C = NH * hs
        let x = qkv.hostFloats, y = out.hostFloats, lse = logsumexp.hostFloats
        let scale = 1 / Double(hs).squareRoot()

        parallelFor(B * NH) { pairs in
            var scores = [Double](repeating: 0, count: T)
            var sum = [Double](repeating: 0, count: hs)
            for pair in pairs {
                let (b, h) = pair.quotientAndRemainder(dividingBy: NH)
                @inline(__always) func token(_ t: Int) -> UnsafeMutablePointer<Float> {
                    x + (b * T + t) * 3 * C + h * hs
                }
                for t in 0..<T {
                    let q = token(t)
                    var maximum = -Double.infinity
                    for j in 0...t {
                        scores[j] = Self.dot(q, token(j) + C, hs) * scale
                        maximum = max(maximum, scores[j])
                    }
                    var total = 0.0
                    for j in 0...t {
                        scores[j] = exp(scores[j] - maximum)
                        total += scores[j]
                    }
                    for d in 0..<hs { sum[d] = 0 }
                    for j in 0...t {
                        let p = scores[j] / total, v = token(j) + 2 * C
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
    /// dS_tj = P_tj (dP_tj - D_t):  dq_t = scale sum_j dS_tj k_j,  dk_j = scale sum_t dS_tj q_t,
    /// dv_j = sum_t P_tj dout_t  (j <= t; scale = 1/sqrt(hs)).
    public func uncheckedAttentionBackward(dqkv: BufferView, dout: BufferView, qkv: BufferView, out: BufferView,
                                           logsumexp: BufferView, batch: Int, sequenceLength: Int,
                                           heads: Int, headDim: Int) throws {
        let (B, T, NH, hs) = (batch, sequenceLength, heads, headDim)
        let C = NH * hs
        let x = qkv.hostFloats, dx = dqkv.hostFloats, y = out.hostFloats, dy = dout.hostFloats, lse = logsumexp.hostFloats
        let scale = 1 / Double(hs).squareRoot()

        parallelFor(B * NH) { pairs in
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
                let (b, h) = pair.quotientAndRemainder(dividingBy: NH)
                @inline(__always) func token(_ t: Int) -> Int { (b * T + t) * 3 * C + h * hs }
                dk.update(repeating: 0, count: T * hs)
                dv.update(repeating: 0, count: T * hs)
                for t in 0..<T {
                    let q = x + token(t)
                    let gradient = dy + (b * T + t) * C + h * hs, output = y + (b * T + t) * C + h * hs
                    let dotOut = Self.dot(gradient, output, hs)
                    let rowLSE = Double(lse[(b * NH + h) * T + t])
                    dq.update(repeating: 0, count: hs)
                    for j in 0...t {
                        let k = x + token(j) + C, v = x + token(j) + 2 * C
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
                    let dqRow = dx + token(t)
                    for d in 0..<hs { dqRow[d] = Float(dq[d]) }
                }
                for j in 0..<T {
                    let dkRow = dx + token(j) + C, dvRow = dx + token(j) + 2 * C
                    for d in 0..<hs {
                        dkRow[d] = Float(dk[j * hs + d])
                        dvRow[d] = Float(dv[j * hs + d])
                    }
                }
            }
        }
    }
}
