// Elementwise ops and bias for the reference backend: add, addScaled, scale, addBias, biasBackward.
// Arithmetic is done in Double and rounded once to Float; the bias gradient (a column sum over rows)
// accumulates in Double, parallel over column ranges so every sum has one owner and a fixed order.

import Compute
import HostMemory

extension ReferenceBackend {
    /// Elements per parallel chunk for cheap elementwise loops.
    var elementGrain: Int { 32_768 }

    /// A grain for rows of `width` elements: about 16K element-operations per chunk.
    func rowGrain(_ width: Int) -> Int { max(1, 16_384 / max(width, 1)) }

    /// out = a + b, each sum in Double rounded once.
    public func uncheckedAdd(out: BufferView, a: BufferView, b: BufferView) throws {
        let count = out.count
        let y = out.hostFloats, x1 = a.hostFloats, x2 = b.hostFloats
        // Each element reads its inputs before writing its output, so aliasing is harmless.
        parallelFor(count, grain: elementGrain) { range in
            for i in range { y[i] = Float(Double(x1[i]) + Double(x2[i])) }
        }
    }

    /// y += alpha * x in Double, rounded once.
    public func uncheckedAddScaled(into y: BufferView, _ x: BufferView, alpha: Float) throws {
        let count = y.count
        let target = y.hostFloats, source = x.hostFloats
        let alpha = Double(alpha)
        parallelFor(count, grain: elementGrain) { range in
            for i in range { target[i] = Float(Double(target[i]) + alpha * Double(source[i])) }
        }
    }

    /// x *= alpha.
    public func uncheckedScale(_ x: BufferView, by alpha: Float) throws {
        let count = x.count
        let values = x.hostFloats
        parallelFor(count, grain: elementGrain) { range in
            for i in range { values[i] *= alpha }
        }
    }

    /// out[r, c] += bias[c], rows in parallel.
    public func uncheckedAddBias(out: BufferView, bias: BufferView, rows: Int, cols: Int) throws {
        let y = out.hostFloats, b = bias.hostFloats
        parallelFor(rows, grain: rowGrain(cols)) { range in
            for r in range {
                let row = y + r * cols
                for c in 0..<cols { row[c] = Float(Double(row[c]) + Double(b[c])) }
            }
        }
    }

    /// dbias[c] += sum over rows of dout[r, c], each column summed in Double by one thread.
    public func uncheckedBiasBackward(dbias: BufferView, dout: BufferView, rows: Int, cols: Int) throws {
        let gradient = dout.hostFloats, result = dbias.hostFloats
        Self.accumulateColumnSums(into: result, rows: rows, cols: cols, backend: self) { r, c in
            Double(gradient[r * cols + c])
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
