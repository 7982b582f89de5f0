// TileGEMM's products on 16 lanes (one zmm register), for CPUs with AVX-512: C = alpha A B or
// C += alpha A B over panels of 32 or 64 columns, 4 rows of C at a time in 8 or 16 zmm
// accumulators, each step loading 2 or 4 vectors of B's row p and broadcasting A(i, p) for the 4
// rows. Each element of C is the chain of multiply-adds over p that TileGEMM computes, in the same
// order, so the results are bit for bit the Float8 build's (a test compares them). Why a second
// copy: an Intel core with two 512-bit FMA units does twice the work per zmm instruction that it
// does per ymm one; on a Zen 4, whose FMA units are 256 bits wide, a zmm instruction is half the
// instructions for the same work. Written on the concrete SIMD16<Float>, as WideGELUKernel is.

#if arch(x86_64)
import BLASKernels

/// The attention's small products, 16 lanes wide (see the file comment).
enum WideTileGEMM {
    /// C = alpha A B (accumulate false) or C += alpha A B (true), TileGEMM.multiply's contract:
    /// n a multiple of 8; whole 32-column panels here, the last < 32 columns by TileGEMM.
    @inline(__always)
    static func multiply<A: VectorArithmetic>(
        _ arithmetic: A.Type, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, rowStride: Int, columnStride: Int,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
    ) {
        var j = 0
        while j + 64 <= n {
            panel(vectors: 4, m: m, k: k, alpha: alpha, a: a, rowStride: rowStride, columnStride: columnStride,
                  b: b + j, ldb: ldb, c: c + j, ldc: ldc, accumulate: accumulate)
            j += 64
        }
        while j + 32 <= n {
            panel(vectors: 2, m: m, k: k, alpha: alpha, a: a, rowStride: rowStride, columnStride: columnStride,
                  b: b + j, ldb: ldb, c: c + j, ldc: ldc, accumulate: accumulate)
            j += 32
        }
        if j < n {
            TileGEMM.multiply(A.self, m: m, n: n - j, k: k, alpha: alpha, a: a, rowStride: rowStride,
                              columnStride: columnStride, b: b + j, ldb: ldb, c: c + j, ldc: ldc,
                              accumulate: accumulate)
        }
    }

    /// All m rows of one panel of 16·vectors columns: blocks of 4 rows, then single rows.
    @inline(__always)
    static func panel(vectors: Int, m: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, rowStride: Int,
                      columnStride: Int, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>,
                      ldc: Int, accumulate: Bool) {
        var i = 0
        while i + 4 <= m {
            fourRows(vectors: vectors, k: k, alpha: alpha, a: a + i * rowStride, rowStride: rowStride,
                     columnStride: columnStride, b: b, ldb: ldb, c: c + i * ldc, ldc: ldc, accumulate: accumulate)
            i += 4
        }
        while i < m {
            oneRow(vectors: vectors, k: k, alpha: alpha, a: a + i * rowStride, columnStride: columnStride,
                   b: b, ldb: ldb, c: c + i * ldc, accumulate: accumulate)
            i += 1
        }
    }

    /// C[0..<4, 0..<16·vectors] (vectors 2 or 4); the unused accumulators fold away.
    @inline(__always)
    static func fourRows(vectors: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, rowStride: Int,
                         columnStride: Int, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>,
                         ldc: Int, accumulate: Bool) {
        var c00 = Lanes16(), c10 = Lanes16(), c20 = Lanes16(), c30 = Lanes16()
        var c01 = Lanes16(), c11 = Lanes16(), c21 = Lanes16(), c31 = Lanes16()
        var c02 = Lanes16(), c12 = Lanes16(), c22 = Lanes16(), c32 = Lanes16()
        var c03 = Lanes16(), c13 = Lanes16(), c23 = Lanes16(), c33 = Lanes16()
        var pa = a, pb = b
        for _ in 0..<k {
            let a0 = Lanes16(repeating: pa[0]), a1 = Lanes16(repeating: pa[rowStride])
            let a2 = Lanes16(repeating: pa[2 * rowStride]), a3 = Lanes16(repeating: pa[3 * rowStride])
            let b0 = Wide.load(pb), b1 = Wide.load(pb + 16)
            c00 = Wide.multiplyAdd(a0, b0, c00)
            c10 = Wide.multiplyAdd(a1, b0, c10)
            c20 = Wide.multiplyAdd(a2, b0, c20)
            c30 = Wide.multiplyAdd(a3, b0, c30)
            c01 = Wide.multiplyAdd(a0, b1, c01)
            c11 = Wide.multiplyAdd(a1, b1, c11)
            c21 = Wide.multiplyAdd(a2, b1, c21)
            c31 = Wide.multiplyAdd(a3, b1, c31)
            if vectors >= 4 {
                let b2 = Wide.load(pb + 32), b3 = Wide.load(pb + 48)
                c02 = Wide.multiplyAdd(a0, b2, c02)
                c12 = Wide.multiplyAdd(a1, b2, c12)
                c22 = Wide.multiplyAdd(a2, b2, c22)
                c32 = Wide.multiplyAdd(a3, b2, c32)
                c03 = Wide.multiplyAdd(a0, b3, c03)
                c13 = Wide.multiplyAdd(a1, b3, c13)
                c23 = Wide.multiplyAdd(a2, b3, c23)
                c33 = Wide.multiplyAdd(a3, b3, c33)
            }
            pa += columnStride
            pb += ldb
        }
        let scale = Lanes16(repeating: alpha)
        finishColumn(c00, c10, c20, c30, scale, c, ldc, accumulate)
        finishColumn(c01, c11, c21, c31, scale, c + 16, ldc, accumulate)
        if vectors >= 4 {
            finishColumn(c02, c12, c22, c32, scale, c + 32, ldc, accumulate)
            finishColumn(c03, c13, c23, c33, scale, c + 48, ldc, accumulate)
        }
    }

    /// C[0, 0..<16·vectors] for one row.
    @inline(__always)
    static func oneRow(vectors: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, columnStride: Int,
                       b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, accumulate: Bool) {
        var c0 = Lanes16(), c1 = Lanes16(), c2 = Lanes16(), c3 = Lanes16()
        var pa = a, pb = b
        for _ in 0..<k {
            let a0 = Lanes16(repeating: pa[0])
            c0 = Wide.multiplyAdd(a0, Wide.load(pb), c0)
            c1 = Wide.multiplyAdd(a0, Wide.load(pb + 16), c1)
            if vectors >= 4 {
                c2 = Wide.multiplyAdd(a0, Wide.load(pb + 32), c2)
                c3 = Wide.multiplyAdd(a0, Wide.load(pb + 48), c3)
            }
            pa += columnStride
            pb += ldb
        }
        let scale = Lanes16(repeating: alpha)
        finish(c0, scale, c, accumulate)
        finish(c1, scale, c + 16, accumulate)
        if vectors >= 4 {
            finish(c2, scale, c + 32, accumulate)
            finish(c3, scale, c + 48, accumulate)
        }
    }

    /// One 16-column vector of the four rows, rows ldc apart.
    @inline(__always)
    static func finishColumn(_ r0: Lanes16, _ r1: Lanes16, _ r2: Lanes16, _ r3: Lanes16, _ alpha: Lanes16,
                             _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool) {
        finish(r0, alpha, c, accumulate)
        finish(r1, alpha, c + ldc, accumulate)
        finish(r2, alpha, c + 2 * ldc, accumulate)
        finish(r3, alpha, c + 3 * ldc, accumulate)
    }

    /// c = alpha sum, or c += alpha sum (TileGEMM.finish on 16 lanes).
    @inline(__always)
    static func finish(_ sum: Lanes16, _ alpha: Lanes16, _ c: UnsafeMutablePointer<Float>, _ accumulate: Bool) {
        Wide.store(accumulate ? Wide.multiplyAdd(sum, alpha, Wide.load(c)) : sum * alpha, c)
    }
}
#endif
