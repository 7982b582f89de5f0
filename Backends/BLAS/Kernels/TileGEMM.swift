// Small matrix products for the attention kernels, for any instruction set (VectorArithmetic.swift):
//   C = alpha A B   or   C += alpha A B,   A m×k, B k×n, C m×n,
// B and C row-major with row strides ldb and ldc, and n a multiple of 8 (the callers pad); A's
// element (i, p) at a + i rowStride + p columnStride, so A may be a transposed view (P^T, dS^T)
// without a copy. Register-blocked: 4 rows × W columns of C (W = 16 where the target holds 16
// Float8 registers, else 8) stay in registers for the whole k loop; each step loads W/8 vectors of
// B's row p and broadcasts A(i, p) for the 4 rows. Attention's products (a 16-row block against
// up to T keys, a head size of 16 to 128) are too small for an sgemm call to pay for its packing,
// and calling this from inside the compiled kernel keeps the exp and masks beside it. The kernels
// call it through their arithmetic's `tileMultiply`, which the AVX-512 build replaces with 16-lane
// blocks (WideTileGEMM); each element of C is the same chain of multiply-adds over p in either,
// so the builds round alike.

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
        if A.float8Registers >= 16 {
            while j + 16 <= n {
                panel(A.self, wide: true, m: m, k: k, alpha: alpha, a: a, rowStride: rowStride,
                      columnStride: columnStride, b: b + j, ldb: ldb, c: c + j, ldc: ldc, accumulate: accumulate)
                j += 16
            }
        }
        while j < n {
            panel(A.self, wide: false, m: m, k: k, alpha: alpha, a: a, rowStride: rowStride,
                  columnStride: columnStride, b: b + j, ldb: ldb, c: c + j, ldc: ldc, accumulate: accumulate)
            j += 8
        }
    }

    /// All m rows of one column panel (8 or 16 wide): blocks of 4 rows, then single rows.
    @inlinable @inline(__always)
    static func panel<A: VectorArithmetic>(
        _ arithmetic: A.Type, wide: Bool, m: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, rowStride: Int, columnStride: Int,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
    ) {
        var i = 0
        while i + 4 <= m {
            fourRows(A.self, wide: wide, k: k, alpha: alpha, a: a + i * rowStride, rowStride: rowStride,
                     columnStride: columnStride, b: b, ldb: ldb, c: c + i * ldc, ldc: ldc, accumulate: accumulate)
            i += 4
        }
        while i < m {
            oneRow(A.self, wide: wide, k: k, alpha: alpha, a: a + i * rowStride, columnStride: columnStride,
                   b: b, ldb: ldb, c: c + i * ldc, accumulate: accumulate)
            i += 1
        }
    }

    /// C[0..<4, 0..<W] for W = 16 (wide) or 8; the unused accumulators fold away.
    @inlinable @inline(__always)
    static func fourRows<A: VectorArithmetic>(
        _ arithmetic: A.Type, wide: Bool, k: Int, alpha: Float,
        a: UnsafePointer<Float>, rowStride: Int, columnStride: Int,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
    ) {
        var c00 = Float8(), c10 = Float8(), c20 = Float8(), c30 = Float8()
        var c01 = Float8(), c11 = Float8(), c21 = Float8(), c31 = Float8()
        var pa = a, pb = b
        for _ in 0..<k {
            let a0 = Float8(repeating: pa[0]), a1 = Float8(repeating: pa[rowStride])
            let a2 = Float8(repeating: pa[2 * rowStride]), a3 = Float8(repeating: pa[3 * rowStride])
            let b0 = Vector.load(pb)
            c00 = A.multiplyAdd(a0, b0, c00)
            c10 = A.multiplyAdd(a1, b0, c10)
            c20 = A.multiplyAdd(a2, b0, c20)
            c30 = A.multiplyAdd(a3, b0, c30)
            if wide {
                let b1 = Vector.load(pb + 8)
                c01 = A.multiplyAdd(a0, b1, c01)
                c11 = A.multiplyAdd(a1, b1, c11)
                c21 = A.multiplyAdd(a2, b1, c21)
                c31 = A.multiplyAdd(a3, b1, c31)
            }
            pa += columnStride
            pb += ldb
        }
        let scale = Float8(repeating: alpha)
        finish(A.self, c00, scale, c, accumulate)
        finish(A.self, c10, scale, c + ldc, accumulate)
        finish(A.self, c20, scale, c + 2 * ldc, accumulate)
        finish(A.self, c30, scale, c + 3 * ldc, accumulate)
        if wide {
            finish(A.self, c01, scale, c + 8, accumulate)
            finish(A.self, c11, scale, c + ldc + 8, accumulate)
            finish(A.self, c21, scale, c + 2 * ldc + 8, accumulate)
            finish(A.self, c31, scale, c + 3 * ldc + 8, accumulate)
        }
    }

    /// C[0, 0..<W] for one row.
    @inlinable @inline(__always)
    static func oneRow<A: VectorArithmetic>(
        _ arithmetic: A.Type, wide: Bool, k: Int, alpha: Float, a: UnsafePointer<Float>, columnStride: Int,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        var c0 = Float8(), c1 = Float8()
        var pa = a, pb = b
        for _ in 0..<k {
            let a0 = Float8(repeating: pa[0])
            c0 = A.multiplyAdd(a0, Vector.load(pb), c0)
            if wide { c1 = A.multiplyAdd(a0, Vector.load(pb + 8), c1) }
            pa += columnStride
            pb += ldb
        }
        let scale = Float8(repeating: alpha)
        finish(A.self, c0, scale, c, accumulate)
        if wide { finish(A.self, c1, scale, c + 8, accumulate) }
    }

    /// c = alpha sum, or c += alpha sum.
    @inlinable @inline(__always)
    static func finish<A: VectorArithmetic>(_ arithmetic: A.Type, _ sum: Float8, _ alpha: Float8,
                                            _ c: UnsafeMutablePointer<Float>, _ accumulate: Bool) {
        Vector.store(accumulate ? A.multiplyAdd(sum, alpha, Vector.load(c)) : sum * alpha, c)
    }
}
