// KV-cache attention for the BLAS backend: for each new query row and head, scores against the
// cached keys, a max-subtracted softmax and the weighted sum of cached values, in Float.
// query is (Q, NH, hs); the cache keysValues is (start + Q, 2, KVH, hs), keys then values per row,
// and query head h reads KV head h / (NH / KVH).
// Decoding one token is O(T·C) work per layer, so plain vectorisable loops suffice; rows and heads
// are independent, so (query, head) pairs run in parallel.

import Compute
import HostMemory

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension BLASBackend {
    /// Scores against the cached keys, a max-subtracted softmax and the weighted sum of values, per (query, head) pair
    /// in parallel.
    public func uncheckedAttentionCachedForward(out: BufferView, query: BufferView, keysValues: BufferView,
                                                start: Int, queries: Int, heads: Int, kvHeads: Int,
                                                headDim: Int) throws {
        let (NH, KVH, hs) = (heads, kvHeads, headDim)
        let C = NH * hs, cacheRow = 2 * KVH * hs, rows = start + queries, group = NH / KVH
        let q0 = query.hostFloats, cache = keysValues.hostFloats, y = out.hostFloats
        let scale = 1 / Float(hs).squareRoot()

        // An item reads `rows` cached keys and values: a one-token step at a short context stays
        // on the calling thread.
        parallelFor(queries * NH, grain: rowGrain(2 * rows * hs)) { items in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: rows)
            defer { scores.deallocate() }
            for item in items {
                let (i, h) = item.quotientAndRemainder(dividingBy: NH)
                let t = start + i, g = h / group
                let q = q0 + i * C + h * hs
                var maximum = -Float.infinity
                for j in 0...t {
                    let k = cache + j * cacheRow + g * hs
                    var dot: Float = 0
                    for d in 0..<hs { dot += q[d] * k[d] }
                    scores[j] = dot * scale
                    maximum = max(maximum, scores[j])
                }
                var total: Float = 0
                for j in 0...t {
                    scores[j] = expf(scores[j] - maximum)
                    total += scores[j]
                }
                let outRow = y + i * C + h * hs
                for d in 0..<hs { outRow[d] = 0 }
                let norm = 1 / total
                for j in 0...t {
                    let p = scores[j] * norm, v = cache + j * cacheRow + (KVH + g) * hs
                    for d in 0..<hs { outRow[d] += p * v[d] }
                }
            }
        }
    }
}
