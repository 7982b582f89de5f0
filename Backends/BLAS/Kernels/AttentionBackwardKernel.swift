// Fused causal attention backward for the query heads that share one KV head (grouped-query
// attention; a group of one is plain multi-head attention), for any instruction set
// (VectorArithmetic.swift). For each query head and each block of 16 queries (S, dP and dQ four
// query rows at a time, so at most 3 keys past a row's diagonal), with P rebuilt from the saved
// logsumexp:
//   S = Q_blk K^T scale log2(e),  P = 2^(S - lse log2(e)) (0 past the diagonal)
//   dP = dO_blk V^T,  dS = P ∘ (dP - D),  D_t = dO_t · O_t
//   dQ_blk = scale dS K  (complete: a block sees all its keys, so it OVERWRITES dq)
//   dV += P^T dO_blk,  dK += scale dS^T Q_blk  (in scratch, summed over the group's heads)
// then dk and dv are written once. Every product is a TileGEMM; P^T and dS^T are strided views.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where one group's operands are, for batch item b and KV head g: query head i of the group (i <
/// groupSize) has its rows at `queries + i * headStride` (qkv), `out`/`dout` + i * headStride
/// (row stride outStride), `dq + i * headStride` (dqkv) and its logsumexp at `logsumexp + i * T`;
/// row t of each at `+ t * stride` (inputStride for qkv and dqkv, outStride for out and dout).
public struct AttentionGroup {
    /// T, hs, query heads sharing the KV head, and the Floats between consecutive query heads.
    public var sequenceLength: Int, headDim: Int, groupSize: Int, headStride: Int
    /// Row 0 of the group's first query head and of the KV head's keys and values (views into qkv).
    public var queries: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>
    /// Floats from one row of qkv (and of dqkv) to the next.
    public var inputStride: Int
    /// Row 0 of the first query head's forward output and its gradient, and their row stride.
    public var out: UnsafePointer<Float>, dout: UnsafePointer<Float>, outStride: Int
    /// groupSize × T Floats: the forward's log-sum-exp of every query of the group.
    public var logsumexp: UnsafePointer<Float>
    /// Row 0 of the first query head's dq and of the KV head's dk and dv (views into dqkv).
    public var dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>

    /// A group's geometry, as named by the properties.
    public init(sequenceLength: Int, headDim: Int, groupSize: Int, headStride: Int, queries: UnsafePointer<Float>,
                keys: UnsafePointer<Float>, values: UnsafePointer<Float>, inputStride: Int, out: UnsafePointer<Float>,
                dout: UnsafePointer<Float>, outStride: Int, logsumexp: UnsafePointer<Float>,
                dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>) {
        self.sequenceLength = sequenceLength
        self.headDim = headDim
        self.groupSize = groupSize
        self.headStride = headStride
        self.queries = queries
        self.keys = keys
        self.values = values
        self.inputStride = inputStride
        self.out = out
        self.dout = dout
        self.outStride = outStride
        self.logsumexp = logsumexp
        self.dq = dq
        self.dk = dk
        self.dv = dv
    }
}

/// The fused causal attention backward of one (batch, KV head) group.
public enum AttentionBackwardKernel {
    /// Floats of scratch `backward` needs for sequence length T and head size hs.
    public static func scratch(sequenceLength T: Int, headDim hs: Int) -> Int {
        let tp = AttentionRows.padded(T), hp = AttentionRows.padded(hs), r = AttentionRows.blockRows
        return 2 * hs * tp + 5 * tp * hp + 2 * r * tp + r * hp + tp
    }

    /// Rows `rows` of `source` (row stride `stride`) as a matrix with whole-vector rows, copied to
    /// `buffer` even when hs is a multiple of 8: at the row strides of qkv and dout (multiples of
    /// 512 bytes at the usual widths) a product's reads of T rows fall into a few L1 sets.
    @inlinable @inline(__always)
    static func paddedRows(_ source: UnsafePointer<Float>, stride: Int, rows: Int, headDim hs: Int,
                           buffer: UnsafeMutablePointer<Float>) -> (UnsafePointer<Float>, Int) {
        let hp = AttentionRows.padded(hs)
        AttentionRows.packRows(source, stride: stride, rows: rows, columns: hs, into: buffer, ld: hp)
        return (UnsafePointer(buffer), hp)
    }

    /// Overwrites the group's dq rows and the KV head's dk and dv rows; `scratch` holds `scratch(...)` Floats.
    @inlinable @inline(__always)
    public static func backward<A: VectorArithmetic>(_ arithmetic: A.Type, _ group: AttentionGroup,
                                                     scratch: UnsafeMutablePointer<Float>) {
        let T = group.sequenceLength, hs = group.headDim, stride = group.inputStride, outStride = group.outStride
        let tp = AttentionRows.padded(T), hp = AttentionRows.padded(hs), r = AttentionRows.blockRows
        let keysT = scratch, valuesT = keysT + hs * tp, keyRows = valuesT + hs * tp
        let queryRows = keyRows + tp * hp, doutRows = queryRows + tp * hp
        let dK = doutRows + tp * hp, dV = dK + tp * hp
        let probabilities = dV + tp * hp, dS = probabilities + r * tp, dQ = dS + r * tp, rowDots = dQ + r * hp
        let scale = 1 / Float(hs).squareRoot(), log2e = AttentionKernel.log2e

        AttentionRows.packTransposed(group.keys, stride: stride, rows: T, columns: hs, scale: scale * log2e,
                                     into: keysT, ld: tp)
        AttentionRows.packTransposed(group.values, stride: stride, rows: T, columns: hs, scale: 1,
                                     into: valuesT, ld: tp)
        let (keys, ldk) = paddedRows(group.keys, stride: stride, rows: T, headDim: hs, buffer: keyRows)
        dK.update(repeating: 0, count: 2 * tp * hp)  // dK and dV

        for head in 0..<group.groupSize {
            let offset = head * group.headStride
            let out = group.out + offset, dout = group.dout + offset, dq = group.dq + offset
            let lse = group.logsumexp + head * T
            let (queries, ldq) = paddedRows(group.queries + offset, stride: stride, rows: T, headDim: hs,
                                            buffer: queryRows)
            let (douts, ldo) = paddedRows(dout, stride: outStride, rows: T, headDim: hs, buffer: doutRows)
            for t in 0..<T { rowDots[t] = dot(A.self, dout + t * outStride, out + t * outStride, hs) }
            var start = 0
            while start < T {
                let rows = min(r, T - start), visibleKeys = start + rows, width = AttentionRows.padded(visibleKeys)
                for i in Swift.stride(from: 0, to: rows, by: 4) {
                    let quad = min(4, rows - i), n = AttentionRows.padded(start + i + quad)
                    A.tileMultiply(m: quad, n: n, k: hs, alpha: 1, a: queries + (start + i) * ldq,
                                   rowStride: ldq, columnStride: 1, b: keysT, ldb: tp, c: probabilities + i * tp,
                                   ldc: tp, accumulate: false)
                    A.tileMultiply(m: quad, n: n, k: hs, alpha: 1, a: douts + (start + i) * ldo,
                                   rowStride: ldo, columnStride: 1, b: valuesT, ldb: tp, c: dS + i * tp, ldc: tp,
                                   accumulate: false)
                }
                for i in 0..<rows {
                    let t = start + i
                    A.softmaxGradientRow(probabilities: probabilities + i * tp, gradients: dS + i * tp,
                                         visible: t + 1, width: width, shift: lse[t] * log2e, rowDot: rowDots[t])
                }
                for i in Swift.stride(from: 0, to: rows, by: 4) {
                    let quad = min(4, rows - i)
                    A.tileMultiply(m: quad, n: hp, k: start + i + quad, alpha: scale, a: dS + i * tp,
                                   rowStride: tp, columnStride: 1, b: keys, ldb: ldk, c: dQ + i * hp, ldc: hp,
                                   accumulate: false)
                }
                for i in 0..<rows { (dq + (start + i) * stride).update(from: dQ + i * hp, count: hs) }
                A.tileMultiply(m: visibleKeys, n: hp, k: rows, alpha: 1, a: probabilities, rowStride: 1,
                               columnStride: tp, b: douts + start * ldo, ldb: ldo, c: dV, ldc: hp,
                               accumulate: true)
                A.tileMultiply(m: visibleKeys, n: hp, k: rows, alpha: scale, a: dS, rowStride: 1,
                               columnStride: tp, b: queries + start * ldq, ldb: ldq, c: dK, ldc: hp,
                               accumulate: true)
                start += rows
            }
        }
        for t in 0..<T {
            (group.dk + t * stride).update(from: dK + t * hp, count: hs)
            (group.dv + t * stride).update(from: dV + t * hp, count: hs)
        }
    }

    /// One query row: P = 2^(S - shift) for the visible keys and 0 to `width`, in `probabilities`;
    /// dS = P (dP - rowDot) in `gradients` (which holds dP). S and dP are read only up to the
    /// visible keys' last vector (the products compute no further).
    @inlinable @inline(__always)
    public static func softmaxGradientRow<A: VectorArithmetic>(
        _ arithmetic: A.Type, probabilities: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>,
        visible: Int, width: Int, shift: Float, rowDot: Float
    ) {
        let shiftVector = Float8(repeating: shift), dot = Float8(repeating: rowDot)
        let computed = AttentionRows.padded(visible)
        (probabilities + computed).update(repeating: 0, count: width - computed)
        (gradients + computed).update(repeating: 0, count: width - computed)
        var j = 0
        while j < computed {
            var p = Vector.exp2(Vector.load(probabilities + j) - shiftVector, A.self)
            var g = p * (Vector.load(gradients + j) - dot)
            if j + 8 > visible {
                let dead = AttentionRows.deadLanes(from: visible - j)
                p = p.replacing(with: 0, where: dead)
                g = g.replacing(with: 0, where: dead)
            }
            Vector.store(p, probabilities + j)
            Vector.store(g, gradients + j)
            j += 8
        }
    }

    /// x · y over `count` elements.
    @inlinable @inline(__always)
    static func dot<A: VectorArithmetic>(_ arithmetic: A.Type, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                                         _ count: Int) -> Float {
        var sum = Float8()
        var j = 0
        while j + 8 <= count {
            sum = A.multiplyAdd(Vector.load(x + j), Vector.load(y + j), sum)
            j += 8
        }
        if j < count {
            sum = A.multiplyAdd(Vector.load(x + j, count: count - j), Vector.load(y + j, count: count - j), sum)
        }
        return sum.sum()
    }
}
