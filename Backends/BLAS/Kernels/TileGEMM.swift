// Small matrix products for the attention kernels, for any instruction set (VectorArithmetic.swift):
//   C = alpha A B   or   C += alpha A B,   A m×k, B k×n, C m×n,
// B and C row-major with row strides ldb and ldc, and n a multiple of 8 (the callers pad); A's
// element (i, p) at a + i rowStride + p columnStride, so A may be a transposed view (P^T, dS^T)
// without a copy. Register-blocked: 4 rows × W columns of C (W = 32 where the target holds 32
// Float8 registers, 16 where it holds 16, else 8) stay in registers for the whole k loop; each
// step loads W/8 vectors of B's row p and broadcasts A(i, p) for the 4 rows. Attention's products
// (a 16-row block against up to T keys, a head size of 16 to 128) are too small for an sgemm call
// to pay for its packing, and calling this from inside the compiled kernel keeps the exp and masks
// beside it. Each element of C is the same chain of multiply-adds over p whatever W is, so the
// builds with wider blocks round exactly as the narrower ones do.

/// Register-blocked small matrix products (see the file comment for the layout).
public enum TileGEMM {
    /// C = alpha A B (accumulate false) or C += alpha A B (true); n a multiple of 8, B and C with whole-vector rows.
    @inlinable @inline(__always)
    public static func multiply<A: VectorArithmetic>(
        _ arithmetic: A.Type, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, rowStride: Int, columnStride: Int,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
    ) {
        var j = 0
        if A.float8Registers >= 32 {
            while j + 32 <= n {
                panel(A.self, vectors: 4, m: m, k: k, alpha: alpha, a: a, rowStride: rowStride,
                      columnStride: columnStride, b: b + j, ldb: ldb, c: c + j, ldc: ldc, accumulate: accumulate)
                j += 32
            }
        }
        if A.float8Registers >= 16 {
            while j + 16 <= n {
                panel(A.self, vectors: 2, m: m, k: k, alpha: alpha, a: a, rowStride: rowStride,
                      columnStride: columnStride, b: b + j, ldb: ldb, c: c + j, ldc: ldc, accumulate: accumulate)
                j += 16
            }
        }
        while j < n {
            panel(A.self, vectors: 1, m: m, k: k, alpha: alpha, a: a, rowStride: rowStride,
                  columnStride: columnStride, b: b + j, ldb: ldb, c: c + j, ldc: ldc, accumulate: accumulate)
            j += 8
        }
    }

    /// All m rows of one column panel (`vectors` Float8 wide: 1, 2 or 4): blocks of 4 rows, then
    /// single rows.
    @inlinable @inline(__always)
    static func panel<A: VectorArithmetic>(
        _ arithmetic: A.Type, vectors: Int, m: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, rowStride: Int, columnStride: Int,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
    ) {
        var i = 0
        while i + 4 <= m {
            fourRows(A.self, vectors: vectors, k: k, alpha: alpha, a: a + i * rowStride, rowStride: rowStride,
                     columnStride: columnStride, b: b, ldb: ldb, c: c + i * ldc, ldc: ldc, accumulate: accumulate)
            i += 4
        }
        while i < m {
            oneRow(A.self, vectors: vectors, k: k, alpha: alpha, a: a + i * rowStride, columnStride: columnStride,
                   b: b, ldb: ldb, c: c + i * ldc, accumulate: accumulate)
            i += 1
        }
    }

    /// C[0..<4, 0..<8·vectors]: 4 × `vectors` accumulators (16 on a 32-register target, which then
    /// loads each broadcast of A once per 4 vectors of B, not per 2); the unused ones fold away.
    @inlinable @inline(__always)
    static func fourRows<A: VectorArithmetic>(
        _ arithmetic: A.Type, vectors: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, rowStride: Int, columnStride: Int,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
    ) {
        var c00 = Float8(), c10 = Float8(), c20 = Float8(), c30 = Float8()
        var c01 = Float8(), c11 = Float8(), c21 = Float8(), c31 = Float8()
        var c02 = Float8(), c12 = Float8(), c22 = Float8(), c32 = Float8()
        var c03 = Float8(), c13 = Float8(), c23 = Float8(), c33 = Float8()
        var pa = a, pb = b
        for _ in 0..<k {
            let a0 = Float8(repeating: pa[0]), a1 = Float8(repeating: pa[rowStride])
            let a2 = Float8(repeating: pa[2 * rowStride]), a3 = Float8(repeating: pa[3 * rowStride])
            let b0 = Vector.load(pb)
            c00 = A.multiplyAdd(a0, b0, c00)
            c10 = A.multiplyAdd(a1, b0, c10)
            c20 = A.multiplyAdd(a2, b0, c20)
            c30 = A.multiplyAdd(a3, b0, c30)
            if vectors >= 2 {
                let b1 = Vector.load(pb + 8)
                c01 = A.multiplyAdd(a0, b1, c01)
                c11 = A.multiplyAdd(a1, b1, c11)
                c21 = A.multiplyAdd(a2, b1, c21)
                c31 = A.multiplyAdd(a3, b1, c31)
            }
            if vectors >= 4 {
                let b2 = Vector.load(pb + 16), b3 = Vector.load(pb + 24)
                c02 = A.multiplyAdd(a0, b2, c02)
                c12 = A.multiplyAdd(a1, b2, c12)
                c22 = A.multiplyAdd(a2, b2, c22)
                c32 = A.multiplyAdd(a3, b2, c32)
                c03 = A.multiplyAdd(a0, b3, c03)
                c13 = A.multiplyAdd(a1, b3, c13)
                c23 = A.multiplyAdd(a2, b3, c23)
                c33 = A.multiplyAdd(a3, b3, c33)
            }
            pa += columnStride
            pb += ldb
        }
        let scale = Float8(repeating: alpha)
        finishColumn(A.self, c00, c10, c20, c30, scale, c, ldc, accumulate)
        if vectors >= 2 { finishColumn(A.self, c01, c11, c21, c31, scale, c + 8, ldc, accumulate) }
        if vectors >= 4 {
            finishColumn(A.self, c02, c12, c22, c32, scale, c + 16, ldc, accumulate)
            finishColumn(A.self, c03, c13, c23, c33, scale, c + 24, ldc, accumulate)
        }
    }

    /// C[0, 0..<8·vectors] for one row.
    @inlinable @inline(__always)
    static func oneRow<A: VectorArithmetic>(
        _ arithmetic: A.Type, vectors: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, columnStride: Int,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        var c0 = Float8(), c1 = Float8(), c2 = Float8(), c3 = Float8()
        var pa = a, pb = b
        for _ in 0..<k {
            let a0 = Float8(repeating: pa[0])
            c0 = A.multiplyAdd(a0, Vector.load(pb), c0)
            if vectors >= 2 { c1 = A.multiplyAdd(a0, Vector.load(pb + 8), c1) }
            if vectors >= 4 {
                c2 = A.multiplyAdd(a0, Vector.load(pb + 16), c2)
                c3 = A.multiplyAdd(a0, Vector.load(pb + 24), c3)
            }
            pa += columnStride
            pb += ldb
        }
        let scale = Float8(repeating: alpha)
        finish(A.self, c0, scale, c, accumulate)
        if vectors >= 2 { finish(A.self, c1, scale, c + 8, accumulate) }
        if vectors >= 4 {
            finish(A.self, c2, scale, c + 16, accumulate)
            finish(A.self, c3, scale, c + 24, accumulate)
        }
    }

    /// One 8-column vector of the four rows, rows ldc apart.
    @inlinable @inline(__always)
    static func finishColumn<A: VectorArithmetic>(_ arithmetic: A.Type, _ r0: Float8, _ r1: Float8, _ r2: Float8,
                                                  _ r3: Float8, _ alpha: Float8, _ c: UnsafeMutablePointer<Float>,
                                                  _ ldc: Int, _ accumulate: Bool) {
        finish(A.self, r0, alpha, c, accumulate)
        finish(A.self, r1, alpha, c + ldc, accumulate)
        finish(A.self, r2, alpha, c + 2 * ldc, accumulate)
        finish(A.self, r3, alpha, c + 3 * ldc, accumulate)
    }

    /// c = alpha sum, or c += alpha sum.
    @inlinable @inline(__always)
    static func finish<A: VectorArithmetic>(_ arithmetic: A.Type, _ sum: Float8, _ alpha: Float8,
                                            _ c: UnsafeMutablePointer<Float>, _ accumulate: Bool) {
        Vector.store(accumulate ? A.multiplyAdd(sum, alpha, Vector.load(c)) : sum * alpha, c)
    }
}
