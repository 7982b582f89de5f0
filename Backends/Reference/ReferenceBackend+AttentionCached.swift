// KV-cache attention for the reference backend: the same plain composition as attentionForward
// (Double scores, max-subtracted softmax, weighted sum of values), for the new rows only.

import Compute
import HostMemory

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ReferenceBackend {
    public func uncheckedAttentionCachedForward(out: BufferView, qkv: BufferView, start: Int, queries: Int,
                                                heads: Int, headDim: Int) throws {
        let (NH, hs) = (heads, headDim)
        let C = NH * hs, rows = start + queries
        let x = qkv.hostFloats, y = out.hostFloats
        let scale = 1 / Double(hs).squareRoot()

        parallelFor(queries * NH) { items in
            var scores = [Double](repeating: 0, count: rows)
            var sum = [Double](repeating: 0, count: hs)
            for item in items {
                let (i, h) = item.quotientAndRemainder(dividingBy: NH)
                let t = start + i
                let q = x + t * 3 * C + h * hs
                var maximum = -Double.infinity
                for j in 0...t {
                    scores[j] = Self.dot(q, x + j * 3 * C + C + h * hs, hs) * scale
                    maximum = max(maximum, scores[j])
                }
                var total = 0.0
                for j in 0...t {
                    scores[j] = exp(scores[j] - maximum)
                    total += scores[j]
                }
                for d in 0..<hs { sum[d] = 0 }
                for j in 0...t {
                    let p = scores[j] / total, v = x + j * 3 * C + 2 * C + h * hs
                    for d in 0..<hs { sum[d] += p * Double(v[d]) }
                }
                let outRow = y + i * C + h * hs
                for d in 0..<hs { outRow[d] = Float(sum[d]) }
            }
        }
    }
}
