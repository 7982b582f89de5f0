// Elementwise ops and bias for the reference backend: add, addScaled, scale, addBias, biasBackward.
// Arithmetic is done in Double and rounded once to Float; the bias gradient (a column sum over rows)
// accumulates in Double, parallel over column ranges so every sum has one owner and a fixed order.

import Compute

extension ReferenceBackend {
    /// Elements per parallel chunk for cheap elementwise loops.
    var elementGrain: Int { 32_768 }

    public func add(out: BufferView, a: BufferView, b: BufferView) throws {
        let op = "add", count = out.count
        try Profiler.measure(profiler, op, shape: "n=\(count)", flops: Double(count), bytes: 12 * Double(count)) {
            try Check.count(op, "a", a, count)
            try Check.count(op, "b", b, count)
            let y = try floats(op, "out", out), x1 = try floats(op, "a", a), x2 = try floats(op, "b", b)
            // Each element reads its inputs before writing its output, so aliasing is harmless.
            parallelFor(count, grain: elementGrain) { range in
                for i in range { y[i] = Float(Double(x1[i]) + Double(x2[i])) }
            }
        }
    }

    public func addScaled(into y: BufferView, _ x: BufferView, alpha: Float) throws {
        let op = "addScaled", count = y.count
        try Profiler.measure(profiler, op, shape: "n=\(count)", flops: 2 * Double(count), bytes: 12 * Double(count)) {
            try Check.count(op, "x", x, count)
            let target = try floats(op, "y", y), source = try floats(op, "x", x)
            let alpha = Double(alpha)
            parallelFor(count, grain: elementGrain) { range in
                for i in range { target[i] = Float(Double(target[i]) + alpha * Double(source[i])) }
            }
        }
    }

    public func scale(_ x: BufferView, by alpha: Float) throws {
        let op = "scale", count = x.count
        try Profiler.measure(profiler, op, shape: "n=\(count)", flops: Double(count), bytes: 8 * Double(count)) {
            let values = try floats(op, "x", x)
            parallelFor(count, grain: elementGrain) { range in
                for i in range { values[i] *= alpha }
            }
        }
    }

    public func addBias(out: BufferView, bias: BufferView, rows: Int, cols: Int) throws {
        let op = "addBias"
        try Profiler.measure(profiler, op, shape: "rows=\(rows) cols=\(cols)", flops: Double(rows * cols),
                             bytes: 8 * Double(rows * cols)) {
            try Check.positive(op, ["rows": rows, "cols": cols])
            try Check.count(op, "out", out, rows * cols)
            try Check.count(op, "bias", bias, cols)
            let y = try floats(op, "out", out), b = try floats(op, "bias", bias)
            parallelFor(rows, grain: rowGrain(cols)) { range in
                for r in range {
                    let row = y + r * cols
                    for c in 0..<cols { row[c] = Float(Double(row[c]) + Double(b[c])) }
                }
            }
        }
    }

    public func biasBackward(dbias: BufferView, dout: BufferView, rows: Int, cols: Int) throws {
        let op = "biasBackward"
        try Profiler.measure(profiler, op, shape: "rows=\(rows) cols=\(cols)", flops: Double(rows * cols),
                             bytes: 4 * Double(rows * cols)) {
            try Check.positive(op, ["rows": rows, "cols": cols])
            try Check.count(op, "dout", dout, rows * cols)
            try Check.count(op, "dbias", dbias, cols)
            let gradient = try floats(op, "dout", dout), result = try floats(op, "dbias", dbias)
            Self.accumulateColumnSums(into: result, rows: rows, cols: cols, backend: self) { r, c in
                Double(gradient[r * cols + c])
            }
        }
    }

    /// result[c] += sum over r of term(r, c), each sum in Double, in increasing r. Parallel over
    /// column ranges (each column has one owner), streaming rows within a range for locality.
    static func accumulateColumnSums(into result: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                                     backend: ReferenceBackend,
                                     _ term: (Int, Int) -> Double) {
        backend.parallelFor(cols, grain: max(1, 16_384 / max(rows, 1))) { columns in
            var sums = [Double](repeating: 0, count: columns.count)
            for r in 0..<rows {
                for c in columns { sums[c - columns.lowerBound] += term(r, c) }
            }
            for c in columns { result[c] = Float(Double(result[c]) + sums[c - columns.lowerBound]) }
        }
    }
}
