// Elementwise ops and bias on the BLAS backend: memory-bound SIMD8 loops, split into one big
// contiguous chunk per thread once a view is large enough to pay for the wake-up.

import Compute
import HostMemory

extension BLASBackend {
    /// a + b in SIMD8 chunks, one contiguous chunk per thread.
    public func uncheckedAdd(out: BufferView, a: BufferView, b: BufferView) throws {
        let po = out.hostFloats, pa = a.hostFloats, pb = b.hostFloats
        let count = a.count
        parallelFor(count, grain: BLASBackend.elementGrain) { range in VectorMath.add(pa, pb, into: po, range) }
    }

    /// y += alpha · x in SIMD8 chunks.
    public func uncheckedAddScaled(into y: BufferView, _ x: BufferView, alpha: Float) throws {
        let py = y.hostFloats, px = x.hostFloats
        let count = y.count
        parallelFor(count, grain: BLASBackend.elementGrain) { range in
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                VectorMath.store(VectorMath.load(py + i) + VectorMath.load(px + i) * alpha, py + i)
                i += 8
            }
            while i < range.upperBound {
                py[i] += px[i] * alpha
                i += 1
            }
        }
    }

    /// x *= alpha in place, SIMD8 chunks.
    public func uncheckedScale(_ x: BufferView, by alpha: Float) throws {
        let px = x.hostFloats
        let count = x.count
        parallelFor(count, grain: BLASBackend.elementGrain) { range in
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                VectorMath.store(VectorMath.load(px + i) * alpha, px + i)
                i += 8
            }
            while i < range.upperBound {
                px[i] *= alpha
                i += 1
            }
        }
    }

    /// The bias added to every row, rows split over the workers.
    public func uncheckedAddBias(out: BufferView, bias: BufferView, rows: Int, cols: Int) throws {
        let po = out.hostFloats, pbias = bias.hostFloats
        parallelFor(rows, grain: rowGrain(cols)) { range in
            for row in range {
                let line = po + row * cols
                var j = 0
                while j + 8 <= cols {
                    VectorMath.store(VectorMath.load(line + j) + VectorMath.load(pbias + j), line + j)
                    j += 8
                }
                while j < cols {
                    line[j] += pbias[j]
                    j += 1
                }
            }
        }
    }

    /// Row-parallel, streaming rows in memory order: each chunk of rows sums into its own
    /// partial row (blocks of 256 rows summed first, then added to the partial, to keep long sums
    /// accurate), and the partials are added to dbias in chunk order afterwards: deterministic for
    /// a given thread count, no atomics, and cache-friendly for N×C activations of any width.
    public func uncheckedBiasBackward(dbias: BufferView, dout: BufferView, rows: Int, cols: Int) throws {
        let pd = dbias.hostFloats, pout = dout.hostFloats
        let grain = rowGrain(cols)
        let chunks = chunkCount(rows, grain: grain)
        // Per chunk: the chunk's total and the current block's sum.
        let partials = scratch(chunks * 2 * cols)
        partials.update(repeating: 0, count: chunks * 2 * cols)
        parallelChunks(rows, grain: grain) { chunk, range in
            let total = partials + chunk * 2 * cols, block = total + cols
            var blockStart = range.lowerBound
            while blockStart < range.upperBound {
                let blockEnd = min(blockStart + 256, range.upperBound)
                block.update(repeating: 0, count: cols)
                for row in blockStart..<blockEnd {
                    VectorMath.add(block, pout + row * cols, into: block, 0..<cols)
                }
                VectorMath.add(total, block, into: total, 0..<cols)
                blockStart = blockEnd
            }
        }
        for chunk in 0..<chunks { VectorMath.add(pd, partials + chunk * 2 * cols, into: pd, 0..<cols) }
    }
}
