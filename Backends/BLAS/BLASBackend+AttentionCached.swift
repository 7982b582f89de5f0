// KV-cache attention for the BLAS backend: for each new query row and head, scores against the
// cached keys, a max-subtracted softmax and the weighted sum of cached values, in Float.
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
    public func uncheckedAttentionCachedForward(out: BufferView, qkv: BufferView, start: Int, queries: Int,
                                                heads: Int, headDim: Int) throws {
        let (NH, hs) = (heads, headDim)
        let C = NH * hs, rows = start + queries
        let x = qkv.hostFloats, y = out.hostFloats
        let scale = 1 / Float(hs).squareRoot()

        parallelFor(queries * NH) { items in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: rows)
            defer { scores.deallocate() }
            for item in items {
                let (i, h) = item.quotientAndRemainder(dividingBy: NH)
                let t = start + i
                let q = x + t * 3 * C + h * hs
                var maximum = -Float.infinity
                for j in 0...t {
                    let k = x + j * 3 * C + C + h * hs
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
                    let p = scores[j] * norm, v = x + j * 3 * C + 2 * C + h * hs
                    for d in 0..<hs { outRow[d] += p * v[d] }
                }
            }
        }
    }
}
