// Fused causal attention forward for one (batch, head) pair, for any instruction set
// (VectorArithmetic.swift). No T×T matrix: 16 queries at a time against the keys they may see
// (each product four query rows at a time, so at most 3 keys past a row's diagonal are computed),
//   S = Q_blk K^T · scale log2(e)        (TileGEMM against K^T, packed once per pair, scale folded in)
//   P = 2^(S - rowmax S) (0 past the diagonal),  l = rowsum P
//   out = (P V) / l,  logsumexp = (rowmax S + log2 l) ln 2
// A block's row holds every key it sees (at most T), so its softmax is exact in one pass: no
// running rescale as in tiled flash attention. Working in base 2 makes each exp one 2^x.
// The pair's geometry is the caller's (AttentionPair), so grouped-query layouts need nothing here.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where one pair's operands are: row t of queries, keys and values at `+ t * inputStride`
/// (views into the qkv buffer), row t of out at `+ t * outStride`, logsumexp contiguous.
public struct AttentionPair {
    /// T, and hs (any positive size; rows are padded to whole vectors in scratch).
    public var sequenceLength: Int, headDim: Int
    /// Row 0 of this pair's query head and of its KV head's keys and values (views into qkv).
    public var queries: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>
    /// Floats from one row of queries, keys or values to the next (a qkv row).
    public var inputStride: Int
    /// Row 0 of this pair's output head and the Floats from one output row to the next.
    public var out: UnsafeMutablePointer<Float>, outStride: Int
    /// T Floats: each query's log-sum-exp of its scaled scores (natural log), for the backward.
    public var logsumexp: UnsafeMutablePointer<Float>

    /// A pair's geometry, as named by the properties.
    public init(sequenceLength: Int, headDim: Int, queries: UnsafePointer<Float>, keys: UnsafePointer<Float>,
                values: UnsafePointer<Float>, inputStride: Int, out: UnsafeMutablePointer<Float>, outStride: Int,
                logsumexp: UnsafeMutablePointer<Float>) {
        self.sequenceLength = sequenceLength
        self.headDim = headDim
        self.queries = queries
        self.keys = keys
        self.values = values
        self.inputStride = inputStride
        self.out = out
        self.outStride = outStride
        self.logsumexp = logsumexp
    }

    /// T and hs rounded up to whole vectors.
    @inlinable var paddedLength: Int { AttentionRows.padded(sequenceLength) }
    @inlinable var paddedHeadDim: Int { AttentionRows.padded(headDim) }
}

/// The fused causal attention forward of one (batch, query head) pair.
public enum AttentionKernel {
    @inlinable static var log2e: Float { 1.4426950408889634 }
    @inlinable static var ln2: Float { 0.6931471805599453 }

    /// Floats of scratch `forward` needs for sequence length T and head size hs.
    public static func forwardScratch(sequenceLength T: Int, headDim hs: Int) -> Int {
        let tp = AttentionRows.padded(T), hp = AttentionRows.padded(hs), r = AttentionRows.blockRows
        return hs * tp + tp * hp + r * tp + r * hp + 2 * r
    }

    /// Writes the pair's T output rows and logsumexp; `scratch` holds forwardScratch Floats.
    @inlinable @inline(__always)
    public static func forward<A: VectorArithmetic>(_ arithmetic: A.Type, _ pair: AttentionPair,
                                                    scratch: UnsafeMutablePointer<Float>) {
        let T = pair.sequenceLength, hs = pair.headDim, stride = pair.inputStride
        let tp = pair.paddedLength, hp = pair.paddedHeadDim, r = AttentionRows.blockRows
        let keysT = scratch, paddedValues = keysT + hs * tp, scores = paddedValues + tp * hp
        let sums = scores + r * tp, rowMaxima = sums + r * hp, rowSums = rowMaxima + r
        let scale = log2e / Float(hs).squareRoot()
        AttentionRows.packTransposed(pair.keys, stride: stride, rows: T, columns: hs, scale: scale,
                                     into: keysT, ld: tp)
        // Values copied to contiguous, whole-vector rows even when hs is a multiple of 8: at qkv's
        // row stride (a multiple of 512 bytes at the usual widths) the P V product's reads of T
        // value rows fall into a few L1 sets and evict each other.
        AttentionRows.packRows(pair.values, stride: stride, rows: T, columns: hs, into: paddedValues, ld: hp)
        let values = UnsafePointer(paddedValues), ldv = hp
        var start = 0
        while start < T {
            let rows = min(r, T - start), width = AttentionRows.padded(start + rows)
            for i in Swift.stride(from: 0, to: rows, by: 4) {
                let quad = min(4, rows - i)
                A.tileMultiply(m: quad, n: AttentionRows.padded(start + i + quad), k: hs, alpha: 1,
                               a: pair.queries + (start + i) * stride, rowStride: stride, columnStride: 1,
                               b: keysT, ldb: tp, c: scores + i * tp, ldc: tp, accumulate: false)
            }
            for i in 0..<rows {
                let row = scores + i * tp, visible = start + i + 1
                rowMaxima[i] = AttentionRows.maximum(A.self, row, visible)
                rowSums[i] = A.exponentiateRow(row, count: visible, width: width, shift: rowMaxima[i])
            }
            for i in Swift.stride(from: 0, to: rows, by: 4) {
                let quad = min(4, rows - i)
                A.tileMultiply(m: quad, n: hp, k: start + i + quad, alpha: 1, a: scores + i * tp,
                               rowStride: tp, columnStride: 1, b: values, ldb: ldv, c: sums + i * hp, ldc: hp,
                               accumulate: false)
            }
            for i in 0..<rows {
                let t = start + i
                normalize(sums + i * hp, by: rowSums[i], into: pair.out + t * pair.outStride, count: hs)
                pair.logsumexp[t] = (rowMaxima[i] + log2f(rowSums[i])) * ln2
            }
            start += rows
        }
    }

    /// destination[d] = row[d] / sum for d < count; `row` holds count rounded up to 8.
    @inlinable @inline(__always)
    static func normalize(_ row: UnsafePointer<Float>, by sum: Float, into destination: UnsafeMutablePointer<Float>,
                          count: Int) {
        let inverse = Float8(repeating: 1 / sum)
        var d = 0
        while d + 8 <= count {
            Vector.store(Vector.load(row + d) * inverse, destination + d)
            d += 8
        }
        if d < count { Vector.store(Vector.load(row + d) * inverse, destination + d, count: count - d) }
    }
}
