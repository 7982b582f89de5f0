// Fused causal self-attention forward on the BLAS backend, flash-attention style: never a T×T
// matrix, only Bq×Bk tiles. For each (batch, head) and each block of queries, walk the key blocks
// up to the diagonal:
//   S = Q_blk K_blk^T / sqrt(hs)                 (cblas_sgemm straight from the strided qkv buffer)
//   m' = max(m, rowmax(S)),  P = e^(S - m') (0 above the diagonal),  l = l e^(m - m') + rowsum(P)
//   O = O e^(m - m') + P V_blk                   (cblas_sgemm, beta 1)
// then out = O / l and logsumexp = m + log l, which the backward uses to rebuild P exactly.
// Work is split over (batch, head) pairs: every pair is the same amount of work and owns its own
// rows of out and logsumexp, so workers never share an output. Grouped-query attention: qkv rows
// are (NH + 2·KVH, hs), and query head h reads the keys and values of KV head h / (NH / KVH).

import Compute
import HostMemory

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension BLASBackend {
    /// Query/key tile edge: 64, halved until a tile product (edge² · hs) stays under OpenBLAS's
    /// multithreading threshold (262,144 multiply-adds), so each tile's sgemm runs single-threaded
    /// on the worker that issued it instead of fanning out inside an already parallel loop.
    static func attentionTile(sequenceLength: Int, headDim: Int) -> Int {
        var tile = 64
        while tile > 8 && tile * tile * headDim > 262_144 { tile /= 2 }
        return max(1, min(tile, sequenceLength))
    }

    /// Row stride of a score tile: the tile edge rounded up to whole SIMD vectors, so the masked
    /// row helpers below may touch every lane of a row's last vector.
    static func tileStride(_ tile: Int) -> Int { (tile + 7) / 8 * 8 }

    /// Largest of row[0..<count], reading whole vectors (lanes past `count` are ignored, whatever
    /// they hold). Needs room for count rounded up to 8.
    @inline(__always)
    static func maskedRowMax(_ row: UnsafeMutablePointer<Float>, _ count: Int) -> Float {
        var best = Float8(repeating: -.infinity)
        var j = 0
        while j + 8 <= count {
            let v = VectorMath.load(row + j)
            best = best.replacing(with: v, where: v .> best)
            j += 8
        }
        if j < count {
            let v = VectorMath.load(row + j).replacing(with: -.infinity, where: deadLanes(from: count - j))
            best = best.replacing(with: v, where: v .> best)
        }
        return best.max()
    }

    /// Lanes at or past `live` (lane indices compared as Floats: Swift lowers Float vector
    /// compares to single instructions, Int32 mask arithmetic to per-lane loops).
    @inline(__always)
    static func deadLanes(from live: Int) -> SIMDMask<SIMD8<Int32>> {
        Float8(0, 1, 2, 3, 4, 5, 6, 7) .>= Float(live)
    }

    /// row[j] = e^(row[j] - shift) for j < count, 0 for the rest of the last vector; returns the
    /// sum over j < count. Whole vectors only: no scalar tail per row (rows end anywhere under
    /// the causal mask). Needs room for count rounded up to 8.
    @inline(__always)
    static func maskedExponentiate(_ row: UnsafeMutablePointer<Float>, _ count: Int, shift: Float) -> Float {
        var sum = Float8()
        var j = 0
        while j + 8 <= count {
            let e = VectorMath.exp(VectorMath.load(row + j) - shift)
            VectorMath.store(e, row + j)
            sum += e
            j += 8
        }
        if j < count {
            let e = VectorMath.exp(VectorMath.load(row + j) - shift).replacing(with: 0, where: deadLanes(from: count - j))
            VectorMath.store(e, row + j)
            sum += e
        }
        return sum.sum()
    }

    /// Sizes shared by the attention forward and backward.
    struct AttentionShape {
        let batch: Int, sequenceLength: Int, heads: Int, kvHeads: Int, headDim: Int
        var channels: Int { heads * headDim }
        /// A qkv row: NH query heads, KVH keys, KVH values.
        var rowStride: Int { (heads + 2 * kvHeads) * headDim }
        var pairs: Int { batch * heads }
        var scale: Float { 1 / Float(headDim).squareRoot() }
        /// Query heads per KV head.
        var groupSize: Int { heads / kvHeads }
        /// Offsets in a qkv row of query head h, and of KV head g's key and value.
        func query(_ h: Int) -> Int { h * headDim }
        func key(_ g: Int) -> Int { channels + g * headDim }
        func value(_ g: Int) -> Int { channels + (kvHeads + g) * headDim }
    }

    public func uncheckedAttentionForward(out: BufferView, logsumexp: BufferView, qkv: BufferView, batch: Int,
                                          sequenceLength: Int, heads: Int, kvHeads: Int, headDim: Int) throws {
        let shape = AttentionShape(batch: batch, sequenceLength: sequenceLength, heads: heads, kvHeads: kvHeads,
                                   headDim: headDim)
        let po = out.hostFloats, plse = logsumexp.hostFloats
        let pqkv = qkv.hostFloats
        let tile = BLASBackend.attentionTile(sequenceLength: sequenceLength, headDim: headDim)
        let tileSize = tile * BLASBackend.tileStride(tile)
        // Per worker: S/P tile, O accumulator, running max and running sum.
        let perWorker = tileSize + tile * headDim + 2 * tile
        let workspace = scratch(perWorker * threadCount)
        parallelWorkers(shape.pairs) { worker, workers in
            let space = workspace + worker * perWorker
            var pair = worker
            while pair < shape.pairs {
                BLASBackend.attentionForwardPair(
                    pair, shape: shape, tile: tile, qkv: pqkv, out: po, logsumexp: plse,
                    scores: space, accumulator: space + tileSize,
                    runningMax: space + tileSize + tile * headDim,
                    runningSum: space + tileSize + tile * headDim + tile)
                pair += workers
            }
        }
    }

    /// One (batch, head) pair of the forward, query block by query block.
    private static func attentionForwardPair(
        _ pair: Int, shape: AttentionShape, tile: Int, qkv: UnsafeMutablePointer<Float>,
        out: UnsafeMutablePointer<Float>, logsumexp: UnsafeMutablePointer<Float>,
        scores: UnsafeMutablePointer<Float>, accumulator: UnsafeMutablePointer<Float>,
        runningMax: UnsafeMutablePointer<Float>, runningSum: UnsafeMutablePointer<Float>
    ) {
        let b = pair / shape.heads, h = pair % shape.heads
        let T = shape.sequenceLength, hs = shape.headDim, stride = shape.rowStride
        let base = qkv + b * T * stride, g = h / shape.groupSize
        let queries = base + shape.query(h), keys = base + shape.key(g), values = base + shape.value(g)
        let ldS = tileStride(tile)
        var queryStart = 0
        while queryStart < T {
            let queryCount = min(tile, T - queryStart)
            accumulator.update(repeating: 0, count: queryCount * hs)
            runningMax.update(repeating: -.infinity, count: queryCount)
            runningSum.update(repeating: 0, count: queryCount)
            var keyStart = 0
            while keyStart < queryStart + queryCount {
                let keyCount = min(tile, queryStart + queryCount - keyStart)
                sgemm(c: scores, a: queries + queryStart * stride, b: keys + keyStart * stride,
                      m: queryCount, n: keyCount, k: hs, transposeA: false, transposeB: true,
                      alpha: shape.scale, beta: 0, lda: stride, ldb: stride, ldc: ldS)
                for i in 0..<queryCount {
                    // Keys keyStart ..< keyStart + visible are at or before query queryStart + i.
                    let visible = min(keyCount, queryStart + i - keyStart + 1)
                    let row = scores + i * ldS
                    let newMax = max(runningMax[i], maskedRowMax(row, visible))
                    let correction = expf(runningMax[i] - newMax)
                    let sum = maskedExponentiate(row, visible, shift: newMax)
                    if visible < keyCount { (row + visible).update(repeating: 0, count: keyCount - visible) }
                    runningSum[i] = runningSum[i] * correction + sum
                    runningMax[i] = newMax
                    if correction != 1 { scaleRow(accumulator + i * hs, hs, by: correction) }
                }
                sgemm(c: accumulator, a: scores, b: values + keyStart * stride,
                      m: queryCount, n: hs, k: keyCount, transposeA: false, transposeB: false,
                      alpha: 1, beta: 1, lda: ldS, ldb: stride, ldc: hs)
                keyStart += keyCount
            }
            for i in 0..<queryCount {
                let t = queryStart + i
                let destination = out + (b * T + t) * shape.channels + h * hs
                let inverse = 1 / runningSum[i]
                for d in 0..<hs { destination[d] = accumulator[i * hs + d] * inverse }
                logsumexp[pair * T + t] = runningMax[i] + logf(runningSum[i])
            }
            queryStart += queryCount
        }
    }
}
