// Matmul on the BLAS backend: every product goes to OpenBLAS `cblas_sgemm` (row-major). A strided
// batch is one sgemm call per batch item: OpenBLAS threads each call itself, and the model's
// batched products (per layer, per head) are large enough that the loop overhead is negligible.

import COpenBLAS
import Compute
import HostMemory

extension BLASBackend {
    /// One row-major `cblas_sgemm` per batch item (OpenBLAS threads each call).
    public func uncheckedMatmul(c: BufferView, a: BufferView, b: BufferView,
                                m: Int, n: Int, k: Int,
                                transposeA: Bool, transposeB: Bool,
                                alpha: Float, beta: Float,
                                batch: Int, strideA: Int, strideB: Int, strideC: Int) throws {
        let pa = a.hostFloats
        let pb = b.hostFloats
        let pc = c.hostFloats
        for item in 0..<batch {
            BLASBackend.sgemm(c: pc + item * strideC, a: pa + item * strideA, b: pb + item * strideB,
                              m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                              alpha: alpha, beta: beta,
                              lda: transposeA ? m : k, ldb: transposeB ? k : n, ldc: n)
        }
    }

    /// One row-major sgemm with explicit leading dimensions (strided views need no copy):
    /// C = alpha op(A) op(B) + beta C. With beta == 0, C is overwritten (OpenBLAS stores zeros
    /// before accumulating, so stale NaNs in C never leak through).
    @inline(__always)
    static func sgemm(c: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                      m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool,
                      alpha: Float, beta: Float, lda: Int, ldb: Int, ldc: Int) {
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
                    beta, c, blasint(ldc))
    }
}
