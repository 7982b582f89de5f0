// Matmul on the BLAS backend: every product goes to OpenBLAS `cblas_sgemm` (row-major), run
// single-threaded on each of the backend's threads (WorkerPool.swift says why not OpenBLAS's own
// threads). A strided batch gives each thread whole batch items; a single product (or a batch
// smaller than the threads) is cut into bands of C's rows, or of its columns when C is wider than
// tall, so each thread's sgemm is a full-size product of its own; a weight gradient Aᵀ B, much
// deeper (the batch's rows) than C is wide or tall, is cut along its depth instead, each thread
// summing over its own rows, and the parts added after. The pieces are fixed by the shape and
// thread count, so results do not depend on which thread ran which.

import COpenBLAS
import Compute
import HostMemory

extension BLASBackend {
    /// One row-major `cblas_sgemm` per batch item, or per band of one item, over the threads.
    public func uncheckedMatmul(c: BufferView, a: BufferView, b: BufferView,
                                m: Int, n: Int, k: Int,
                                transposeA: Bool, transposeB: Bool,
                                alpha: Float, beta: Float,
                                batch: Int, strideA: Int, strideB: Int, strideC: Int) throws {
        let pa = a.hostFloats, pb = b.hostFloats, pc = c.hostFloats
        let lda = transposeA ? m : k, ldb = transposeB ? k : n
        let work = BLASBackend.multiplyAdds(m, n, k)
        if let parts = depthParts(batch: batch, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                                  work: work) {
            splitDepth(parts: parts, c: pc, a: pa, b: pb, m: m, n: n, k: k, alpha: alpha, beta: beta)
            return
        }
        let bands = matmulBands(batch: batch, m: m, n: n, work: work)
        let splitRows = m >= n
        let extent = splitRows ? m : n
        // Whole items per chunk until a chunk holds matmulSplitWork (1 once the items are banded).
        let grain = max(1, BLASBackend.matmulSplitWork / max(1, work))
        parallelFor(batch * bands, grain: grain) { range in
            for piece in range {
                let item = piece / bands, band = piece % bands
                // Bands start on multiples of 16 (OpenBLAS's widest register tile) where they can.
                let lower = BLASBackend.bandEdge(band, of: bands, extent: extent)
                let upper = BLASBackend.bandEdge(band + 1, of: bands, extent: extent)
                guard upper > lower else { continue }
                var a = pa + item * strideA, b = pb + item * strideB, c = pc + item * strideC
                var rows = m, columns = n
                if splitRows {  // rows lower..<upper of op(A) and C
                    a += transposeA ? lower : lower * lda
                    c += lower * n
                    rows = upper - lower
                } else {  // columns lower..<upper of op(B) and C
                    b += transposeB ? lower * ldb : lower
                    c += lower
                    columns = upper - lower
                }
                BLASBackend.sgemm(c: c, a: a, b: b, m: rows, n: columns, k: k,
                                  transposeA: transposeA, transposeB: transposeB,
                                  alpha: alpha, beta: beta, lda: lda, ldb: ldb, ldc: n)
            }
        }
    }

    /// Threads to split a weight gradient's depth over (Aᵀ B with k the batch's rows, deeper than
    /// C is wide or tall), or nil to band C: each thread then reads only its own rows of A and B,
    /// the rows the ops before wrote on its core, where bands of C would read all of them.
    func depthParts(batch: Int, m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, work: Int) -> Int? {
        guard threadCount > 1, batch == 1, transposeA, !transposeB, work >= BLASBackend.matmulSplitWork,
              k >= 2 * max(m, n) else { return nil }
        return min(threadCount, k / 64)  // parts of at least 48 rows once edges are on the 16-row grid
    }

    /// C = alpha Aᵀ B + beta C with A k×m and B k×n row-major, the depth k cut into `parts` row
    /// ranges: part 0 accumulates into C with beta, the others into scratch, summed into C after
    /// (in part order, so the result depends only on the thread count).
    func splitDepth(parts: Int, c: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                    m: Int, n: Int, k: Int, alpha: Float, beta: Float) {
        let partials = scratch((parts - 1) * m * n)
        parallelFor(parts) { range in
            for part in range {
                let lower = BLASBackend.bandEdge(part, of: parts, extent: k)
                let upper = BLASBackend.bandEdge(part + 1, of: parts, extent: k)
                let target = part == 0 ? c : partials + (part - 1) * m * n
                BLASBackend.sgemm(c: target, a: a + lower * m, b: b + lower * n, m: m, n: n, k: upper - lower,
                                  transposeA: true, transposeB: false, alpha: alpha, beta: part == 0 ? beta : 0,
                                  lda: m, ldb: n, ldc: n)
            }
        }
        parallelFor(m * n, grain: BLASBackend.elementGrain) { range in
            for part in 1..<parts { VectorMath.add(c, partials + (part - 1) * m * n, into: c, range) }
        }
    }

    /// Bands per batch item: enough pieces for every thread once the product (`work` multiply-adds)
    /// is worth splitting (a 64³ product takes about 3 µs; handing a chunk to a spinning worker
    /// about 2), 1 otherwise.
    func matmulBands(batch: Int, m: Int, n: Int, work: Int) -> Int {
        guard threadCount > 1, batch < threadCount, work >= BLASBackend.matmulSplitWork else { return 1 }
        let perItem = (threadCount + batch - 1) / batch
        return max(1, min(perItem, max(m, n) / 16))
    }

    /// Multiply-adds below which one product stays on one thread.
    static let matmulSplitWork = 1 << 17

    /// m·n·k, saturating at Int.max (the contract bounds each buffer, not the product of all three).
    static func multiplyAdds(_ m: Int, _ n: Int, _ k: Int) -> Int {
        let (mn, overflow) = m.multipliedReportingOverflow(by: n)
        let (mnk, overflow2) = mn.multipliedReportingOverflow(by: k)
        return overflow || overflow2 ? Int.max : mnk
    }

    /// Where band `index` of `bands` starts in 0..<extent: an even split rounded to a multiple of
    /// 16, the last band ending at `extent`.
    static func bandEdge(_ index: Int, of bands: Int, extent: Int) -> Int {
        if index >= bands { return extent }
        return min(extent, (extent * index / bands + 8) / 16 * 16)
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
