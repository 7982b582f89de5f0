// Elementwise ops and bias on the BLAS backend: memory-bound SIMD8 loops, split into one big
// contiguous chunk per thread once a view is large enough to pay for the wake-up.

import Compute

extension BLASBackend {
    public func add(out: BufferView, a: BufferView, b: BufferView) throws {
        let op = "add"
        let po = try floats(op, "out", out), pa = try floats(op, "a", a), pb = try floats(op, "b", b)
        try Check.count(op, "b", b, a.count)
        try Check.count(op, "out", out, a.count)
        let count = a.count
        Profiler.measure(profiler, op, shape: "n=\(count)", flops: Double(count), bytes: 12.0 * Double(count)) {
            parallelFor(count, grain: BLASBackend.elementGrain) { range in
                var i = range.lowerBound
                while i + 8 <= range.upperBound {
                    VectorMath.store(VectorMath.load(pa + i) + VectorMath.load(pb + i), po + i)
                    i += 8
                }
                while i < range.upperBound {
                    po[i] = pa[i] + pb[i]
                    i += 1
                }
            }
        }
    }

    public func addScaled(into y: BufferView, _ x: BufferView, alpha: Float) throws {
        let op = "addScaled"
        let py = try floats(op, "y", y), px = try floats(op, "x", x)
        try Check.count(op, "x", x, y.count)
        let count = y.count
        Profiler.measure(profiler, op, shape: "n=\(count)", flops: 2.0 * Double(count), bytes: 12.0 * Double(count)) {
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
    }

    public func scale(_ x: BufferView, by alpha: Float) throws {
        let op = "scale"
        let px = try floats(op, "x", x)
        let count = x.count
        Profiler.measure(profiler, op, shape: "n=\(count)", flops: Double(count), bytes: 8.0 * Double(count)) {
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
    }

    public func addBias(out: BufferView, bias: BufferView, rows: Int, cols: Int) throws {
        let op = "addBias"
        try Check.positive(op, ["rows": rows, "cols": cols])
        let po = try floats(op, "out", out), pbias = try floats(op, "bias", bias)
        try Check.count(op, "out", out, rows * cols)
        try Check.count(op, "bias", bias, cols)
        Profiler.measure(profiler, op, shape: "rows=\(rows) cols=\(cols)", flops: Double(rows * cols),
                         bytes: 8.0 * Double(rows * cols)) {
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
    }

    /// Row-parallel, streaming rows in memory order: each chunk of rows sums into its own
    /// partial row (blocks of 256 rows summed first, then added to the partial, to keep long sums
    /// accurate), and the partials are added to dbias in chunk order afterwards: deterministic for
    /// a given thread count, no atomics, and cache-friendly for N×C activations of any width.
    public func biasBackward(dbias: BufferView, dout: BufferView, rows: Int, cols: Int) throws {
        let op = "biasBackward"
        try Check.positive(op, ["rows": rows, "cols": cols])
        let pd = try floats(op, "dbias", dbias), pout = try floats(op, "dout", dout)
        try Check.count(op, "dout", dout, rows * cols)
        try Check.count(op, "dbias", dbias, cols)
        let grain = rowGrain(cols)
        let chunks = chunkCount(rows, grain: grain)
        // Per chunk: the chunk's total and the current block's sum.
        let partials = scratch(chunks * 2 * cols)
        partials.update(repeating: 0, count: chunks * 2 * cols)
        Profiler.measure(profiler, op, shape: "rows=\(rows) cols=\(cols)", flops: Double(rows * cols),
                         bytes: 4.0 * Double(rows * cols + 2 * cols)) {
            parallelChunks(rows, grain: grain) { chunk, range in
                let total = partials + chunk * 2 * cols, block = total + cols
                var blockStart = range.lowerBound
                while blockStart < range.upperBound {
                    let blockEnd = min(blockStart + 256, range.upperBound)
                    block.update(repeating: 0, count: cols)
                    for row in blockStart..<blockEnd {
                        BLASBackend.accumulate(block, pout + row * cols, cols)
                    }
                    BLASBackend.accumulate(total, block, cols)
                    blockStart = blockEnd
                }
            }
            for chunk in 0..<chunks { BLASBackend.accumulate(pd, partials + chunk * 2 * cols, cols) }
        }
    }

    /// y[j] += x[j] for j < count.
    @inline(__always)
    static func accumulate(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) {
        var j = 0
        while j + 8 <= count {
            VectorMath.store(VectorMath.load(y + j) + VectorMath.load(x + j), y + j)
            j += 8
        }
        while j < count {
            y[j] += x[j]
            j += 1
        }
    }
}
