// Token embedding lookup and its deterministic backward on the BLAS backend.
// Forward copies rows in parallel. Backward is split over embedding columns: each thread owns a
// column range of every dtable row and walks the tokens in increasing i, so each sum is taken in
// the documented order without float atomics, whatever the thread count.

import Compute
import HostMemory

extension BLASBackend {
    /// Table rows copied per token, tokens split over the workers.
    public func uncheckedEmbeddingForward(out: BufferView, table: BufferView, tokens: BufferView,
                                          count: Int, dim: Int) throws {
        let po = out.hostFloats, ptable = table.hostFloats
        let ptokens = tokens.hostInt32s
        parallelFor(count, grain: rowGrain(dim)) { range in
            for i in range {
                (po + i * dim).update(from: ptable + Int(ptokens[i]) * dim, count: dim)
            }
        }
    }

    /// Each worker owns a column range of dtable and walks the tokens in order: the documented summation order, no
    /// atomics.
    public func uncheckedEmbeddingBackward(dtable: BufferView, dout: BufferView, tokens: BufferView,
                                           count: Int, dim: Int) throws {
        let pd = dtable.hostFloats, pout = dout.hostFloats
        let ptokens = tokens.hostInt32s
        // Column chunks in whole SIMD vectors, so no two threads touch the same vector.
        let vectors = (dim + 7) / 8
        parallelFor(vectors, grain: max(1, BLASBackend.elementGrain / (8 * count))) { range in
            let start = range.lowerBound * 8
            let end = min(range.upperBound * 8, dim)
            for i in 0..<count {
                let target = pd + Int(ptokens[i]) * dim
                let source = pout + i * dim
                var j = start
                while j + 8 <= end {
                    VectorMath.store(VectorMath.load(target + j) + VectorMath.load(source + j), target + j)
                    j += 8
                }
                while j < end {
                    target[j] += source[j]
                    j += 1
                }
            }
        }
    }
}
