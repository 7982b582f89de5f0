// The matmul contract: strided batched GEMM, the one requirement every linear layer, its weight
// gradient and its input gradient go through.
// Profile record: "m=M n=N k=K batch=BATCH" plus " tA" / " tB" for transposed operands;
// FLOPs 2·m·n·k per batch item; bytes 4·(m·k + k·n + m·n, plus m·n more when beta != 0) per item.

/// The matmul family's requirement: strided batched GEMM. A backend implements it; callers use the
/// checked `matmul(c:a:b:...)` below.
public protocol BackendMatmul: AnyObject {
    /// `matmul(c:a:b:m:n:k:transposeA:transposeB:alpha:beta:batch:strideA:strideB:strideC:)` after
    /// its checks; see there for the math.
    func uncheckedMatmul(c: BufferView, a: BufferView, b: BufferView,
                         m: Int, n: Int, k: Int,
                         transposeA: Bool, transposeB: Bool,
                         alpha: Float, beta: Float,
                         batch: Int, strideA: Int, strideB: Int, strideC: Int) throws
}

extension Backend {
    /// Strided batched GEMM, OVERWRITES (beta = 0) or ACCUMULATES (beta = 1) into `c`:
    ///   for i in 0..<batch: C_i = alpha * op(A_i) * op(B_i) + beta * C_i
    /// op(A_i) is m×k (A_i stored k×m when `transposeA`), op(B_i) is k×n (stored n×k when
    /// `transposeB`), C_i is m×n; all packed row-major. A_i starts at `a.offset + i * strideA`
    /// elements (likewise B, C). With beta == 0, C's old contents are ignored (even NaN).
    /// Checks: positive sizes, strides >= 0, each view long enough for its last item, C's items
    /// apart (strideC >= m·n when batch > 1), and `c` sharing no element with `a` or `b`.
    public func matmul(c: BufferView, a: BufferView, b: BufferView,
                       m: Int, n: Int, k: Int,
                       transposeA: Bool, transposeB: Bool,
                       alpha: Float, beta: Float,
                       batch: Int, strideA: Int, strideB: Int, strideC: Int) throws {
        let check = try OpCheck(.matmul, on: self)
        try check.positive(["m": m, "n": n, "k": k, "batch": batch])
        try check.nonNegative(["strideA": strideA, "strideB": strideB, "strideC": strideC])
        try check.floats(["c": c, "a": a, "b": b])
        try check.atLeast("a", a, (batch - 1) * strideA + m * k)
        try check.atLeast("b", b, (batch - 1) * strideB + k * n)
        try check.atLeast("c", c, (batch - 1) * strideC + m * n)
        try check.require(batch == 1 || strideC >= m * n,
                          "strideC must be at least m*n = \(m * n) when batch > 1, got \(strideC)")
        try check.separate(("c", c), from: [("a", a), ("b", b)])
        try check.run(check.matmulRecord(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                                         beta: beta, batch: batch)) {
            try uncheckedMatmul(c: c, a: a, b: b, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                                alpha: alpha, beta: beta, batch: batch, strideA: strideA, strideB: strideB,
                                strideC: strideC)
        }
    }

    /// Unbatched matmul: C = alpha * op(A) * op(B) + beta * C.
    public func matmul(c: BufferView, a: BufferView, b: BufferView, m: Int, n: Int, k: Int,
                       transposeA: Bool = false, transposeB: Bool = false,
                       alpha: Float = 1, beta: Float = 0) throws {
        try matmul(c: c, a: a, b: b, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                   alpha: alpha, beta: beta, batch: 1, strideA: 0, strideB: 0, strideC: 0)
    }
}

extension OpCheck {
    fileprivate func matmulRecord(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, beta: Float,
                                  batch: Int) -> OpRecord {
        let items = Double(batch), mn = Double(m) * Double(n)
        return record("m=\(m) n=\(n) k=\(k) batch=\(batch)\(transposeA ? " tA" : "")\(transposeB ? " tB" : "")",
                      flops: 2 * mn * Double(k) * items,
                      bytes: 4 * items * (Double(m) * Double(k) + Double(k) * Double(n) + (beta == 0 ? 1 : 2) * mn))
    }
}

extension ForwardingBackend {
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedMatmul(c: BufferView, a: BufferView, b: BufferView, m: Int, n: Int, k: Int,
                                transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float,
                                batch: Int, strideA: Int, strideB: Int, strideC: Int) throws {
        try forwardee.uncheckedMatmul(c: c, a: a, b: b, m: m, n: n, k: k, transposeA: transposeA,
                                      transposeB: transposeB, alpha: alpha, beta: beta, batch: batch,
                                      strideA: strideA, strideB: strideB, strideC: strideC)
    }
}
