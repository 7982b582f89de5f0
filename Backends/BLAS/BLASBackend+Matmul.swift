// Matmul on the BLAS backend: every product goes to OpenBLAS `cblas_sgemm` (row-major). A strided
// batch is one sgemm call per batch item: OpenBLAS threads each call itself, and the model's
// batched products (per layer, per head) are large enough that the loop overhead is negligible.

import COpenBLAS
import Compute

extension BLASBackend {
    public func matmul(c: BufferView, a: BufferView, b: BufferView,
                       m: Int, n: Int, k: Int,
                       transposeA: Bool, transposeB: Bool,
                       alpha: Float, beta: Float,
                       batch: Int, strideA: Int, strideB: Int, strideC: Int) throws {
        let op = "matmul"
        try Check.positive(op, ["m": m, "n": n, "k": k, "batch": batch])
        guard strideA >= 0, strideB >= 0, strideC >= 0 else {
            throw BackendError.invalidArgument(op: op, reason: "strides must not be negative")
        }
        let pa = try floats(op, "a", a)
        let pb = try floats(op, "b", b)
        let pc = try floats(op, "c", c)
        try Check.atLeast(op, "a", a, (batch - 1) * strideA + m * k)
        try Check.atLeast(op, "b", b, (batch - 1) * strideB + k * n)
        try Check.atLeast(op, "c", c, (batch - 1) * strideC + m * n)
        let flops = 2.0 * Double(batch) * Double(m) * Double(n) * Double(k)
        let bytes = 4.0 * Double(batch) * Double(m * k + k * n + (beta == 0 ? 1 : 2) * m * n)
        Profiler.measure(profiler, op,
                         shape: "m=\(m) n=\(n) k=\(k) tA=\(transposeA) tB=\(transposeB) batch=\(batch)",
                         flops: flops, bytes: bytes) {
            for item in 0..<batch {
                BLASBackend.sgemm(c: pc + item * strideC, a: pa + item * strideA, b: pb + item * strideB,
                                  m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                                  alpha: alpha, beta: beta,
                                  lda: transposeA ? m : k, ldb: transposeB ? k : n, ldc: n)
            }
        }
    }

    /// One row-major sgemm with explicit leading dimensions (attention uses strided views of qkv):
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
