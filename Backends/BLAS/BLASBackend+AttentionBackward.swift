// Fused causal self-attention backward on the BLAS backend (flash-attention style). For each
// (batch, KV head) pair and each query head h of its group (grouped-query attention: query head h
// reads KV head h / (NH / KVH)), D_t = dout_t · out_t, then for each key block j and each query
// block i at or below the diagonal, with P rebuilt from the saved logsumexp (no T×T matrix is ever
// stored):
//   S  = Q_i K_j^T / sqrt(hs),  P = e^(S - lse_i) (0 above the diagonal)
//   dV_j += P^T dO_i            dP = dO_i V_j^T            dS = P ∘ (dP - D_i)
//   dQ_i += dS K_j / sqrt(hs)   dK_j += dS^T Q_i / sqrt(hs)
// Every product is a cblas_sgemm on strided views of qkv, dout and dqkv. dK and dV of a KV head
// sum over its group's query heads, so a (batch, KV head) pair owns those rows and its group's dq
// rows, and pairs run on different workers without races; dqkv is zeroed first (OVERWRITES).

import Compute
import HostMemory

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension BLASBackend {
    public func uncheckedAttentionBackward(dqkv: BufferView, dout: BufferView, qkv: BufferView, out: BufferView,
                                           logsumexp: BufferView, batch: Int, sequenceLength: Int,
                                           heads: Int, kvHeads: Int, headDim: Int) throws {
        let shape = AttentionShape(batch: batch, sequenceLength: sequenceLength, heads: heads, kvHeads: kvHeads,
                                   headDim: headDim)
        let pdqkv = dqkv.hostFloats, pdout = dout.hostFloats
        let pqkv = qkv.hostFloats, pout = out.hostFloats
        let plse = logsumexp.hostFloats
        let tile = BLASBackend.attentionTile(sequenceLength: sequenceLength, headDim: headDim)
        let tileSize = tile * BLASBackend.tileStride(tile)
        // Per worker: P tile, dP/dS tile, D for every query of the head.
        let perWorker = 2 * tileSize + sequenceLength
        let workspace = scratch(perWorker * threadCount)
        let kvPairs = batch * kvHeads
        parallelWorkers(kvPairs) { worker, workers in
            let space = workspace + worker * perWorker
            var kvPair = worker
            while kvPair < kvPairs {
                let b = kvPair / kvHeads, g = kvPair % kvHeads
                let dkvBase = pdqkv + b * sequenceLength * shape.rowStride
                for t in 0..<sequenceLength {
                    (dkvBase + t * shape.rowStride + shape.key(g)).update(repeating: 0, count: headDim)
                    (dkvBase + t * shape.rowStride + shape.value(g)).update(repeating: 0, count: headDim)
                }
                for h in (g * shape.groupSize)..<((g + 1) * shape.groupSize) {
                    BLASBackend.attentionBackwardPair(
                        b * heads + h, shape: shape, tile: tile, dqkv: pdqkv, dout: pdout, qkv: pqkv, out: pout,
                        logsumexp: plse, probabilities: space, gradients: space + tileSize,
                        rowDots: space + 2 * tileSize)
                }
                kvPair += workers
            }
        }
    }

    /// One (batch, query head) pair: OVERWRITES its dq rows, ACCUMULATES into its KV head's dk and
    /// dv rows (the caller zeroes them once for the group).
    private static func attentionBackwardPair(
        _ pair: Int, shape: AttentionShape, tile: Int, dqkv: UnsafeMutablePointer<Float>,
        dout: UnsafeMutablePointer<Float>, qkv: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>,
        logsumexp: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>,
        gradients: UnsafeMutablePointer<Float>, rowDots: UnsafeMutablePointer<Float>
    ) {
        let b = pair / shape.heads, h = pair % shape.heads, g = h / shape.groupSize
        let T = shape.sequenceLength, hs = shape.headDim, stride = shape.rowStride, C = shape.channels
        let base = qkv + b * T * stride
        let queries = base + shape.query(h), keys = base + shape.key(g), values = base + shape.value(g)
        let gradientBase = dqkv + b * T * stride
        let dq = gradientBase + shape.query(h), dk = gradientBase + shape.key(g), dv = gradientBase + shape.value(g)
        let doutBase = dout + b * T * C + h * hs, outBase = out + b * T * C + h * hs
        let lse = logsumexp + pair * T
        let ld = tileStride(tile)
        for t in 0..<T {
            (dq + t * stride).update(repeating: 0, count: hs)
            rowDots[t] = dot(doutBase + t * C, outBase + t * C, hs)
        }
        var keyStart = 0
        while keyStart < T {
            let keyCount = min(tile, T - keyStart)
            // Query blocks share the key blocks' alignment, so the first one is the diagonal block.
            var queryStart = keyStart
            while queryStart < T {
                let queryCount = min(tile, T - queryStart)
                sgemm(c: probabilities, a: queries + queryStart * stride, b: keys + keyStart * stride,
                      m: queryCount, n: keyCount, k: hs, transposeA: false, transposeB: true,
                      alpha: shape.scale, beta: 0, lda: stride, ldb: stride, ldc: ld)
                for i in 0..<queryCount {
                    let t = queryStart + i
                    let visible = max(0, min(keyCount, t - keyStart + 1))
                    let row = probabilities + i * ld
                    _ = maskedExponentiate(row, visible, shift: lse[t])
                    if visible < keyCount { (row + visible).update(repeating: 0, count: keyCount - visible) }
                }
                // dV_j += P^T dO_i
                sgemm(c: dv + keyStart * stride, a: probabilities, b: doutBase + queryStart * C,
                      m: keyCount, n: hs, k: queryCount, transposeA: true, transposeB: false,
                      alpha: 1, beta: 1, lda: ld, ldb: C, ldc: stride)
                // dP = dO_i V_j^T, then dS = P (dP - D) in place.
                sgemm(c: gradients, a: doutBase + queryStart * C, b: values + keyStart * stride,
                      m: queryCount, n: keyCount, k: hs, transposeA: false, transposeB: true,
                      alpha: 1, beta: 0, lda: C, ldb: stride, ldc: ld)
                for i in 0..<queryCount {
                    softmaxGradientRow(gradients + i * ld, probabilities + i * ld, keyCount,
                                       rowDot: rowDots[queryStart + i])
                }
                // dQ_i += dS K_j / sqrt(hs);  dK_j += dS^T Q_i / sqrt(hs)
                sgemm(c: dq + queryStart * stride, a: gradients, b: keys + keyStart * stride,
                      m: queryCount, n: hs, k: keyCount, transposeA: false, transposeB: false,
                      alpha: shape.scale, beta: 1, lda: ld, ldb: stride, ldc: stride)
                sgemm(c: dk + keyStart * stride, a: gradients, b: queries + queryStart * stride,
                      m: keyCount, n: hs, k: queryCount, transposeA: true, transposeB: false,
                      alpha: shape.scale, beta: 1, lda: ld, ldb: stride, ldc: stride)
                queryStart += queryCount
            }
            keyStart += keyCount
        }
    }

    /// dS = P (dP - D) over one tile row, in place in `gradient`.
    @inline(__always)
    private static func softmaxGradientRow(_ gradient: UnsafeMutablePointer<Float>,
                                           _ probability: UnsafeMutablePointer<Float>, _ count: Int,
                                           rowDot: Float) {
        var j = 0
        while j + 8 <= count {
            VectorMath.store(VectorMath.load(probability + j) * (VectorMath.load(gradient + j) - rowDot), gradient + j)
            j += 8
        }
        while j < count {
            gradient[j] = probability[j] * (gradient[j] - rowDot)
            j += 1
        }
    }

    /// x · y over `count` elements.
    @inline(__always)
    static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ count: Int) -> Float {
        var sum = Float8(), tail: Float = 0
        var j = 0
        while j + 8 <= count {
            sum += VectorMath.load(x + j) * VectorMath.load(y + j)
            j += 8
        }
        while j < count {
            tail += x[j] * y[j]
            j += 1
        }
        return sum.sum() + tail
    }
}
