// KV-cache attention for the reference backend: the same plain composition as attentionForward
// (Double scores, max-subtracted softmax, weighted sum of values), for the new rows only.
// query is (Q, NH, hs); the cache keysValues is (start + Q, 2, KVH, hs), keys then values per row;
// query head h reads KV head h / (NH / KVH).

import Compute
import HostMemory

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ReferenceBackend {
    /// The forward's composition for the Q new rows only, against the cache's keys and values.
    public func uncheckedAttentionCachedForward(out: BufferView, query: BufferView, keysValues: BufferView,
                                                start: Int, queries: Int, heads: Int, kvHeads: Int,
                                                headDim: Int) throws {
        let (NH, KVH, hs) = (heads, kvHeads, headDim)
        let C = NH * hs, cacheRow = 2 * KVH * hs, rows = start + queries, group = NH / KVH
        let q0 = query.hostFloats, cache = keysValues.hostFloats, y = out.hostFloats
        let scale = 1 / Double(hs).squareRoot()

        parallelFor(queries * NH) { items in
            var scores = [Double](repeating: 0, count: rows)
            var sum = [Double](repeating: 0, count: hs)
            for item in items {
                let (i, h) = item.quotientAndRemainder(dividingBy: NH)
                let t = start + i, g = h / group
                let q = q0 + i * C + h * hs
                var maximum = -Double.infinity
                for j in 0...t {
                    scores[j] = Self.dot(q, cache + j * cacheRow + g * hs, hs) * scale
                    maximum = max(maximum, scores[j])
                }
                var total = 0.0
                for j in 0...t {
                    scores[j] = exp(scores[j] - maximum)
                    total += scores[j]
                }
                for d in 0..<hs { sum[d] = 0 }
                for j in 0...t {
                    let p = scores[j] / total, v = cache + j * cacheRow + (KVH + g) * hs
                    for d in 0..<hs { sum[d] += p * Double(v[d]) }
                }
                let outRow = y + i * C + h * hs
                for d in 0..<hs { outRow[d] = Float(sum[d]) }
            }
        }
    }
}
