// LayerNorm and RMSNorm, forward and backward, for the reference backend.
// Per-row statistics (mean, variance, mean square) and the backward's row reductions are taken in
// Double. The backward runs in two passes: rows in parallel for dinput, then columns in parallel for
// dweight/dbias (sums over rows), so no two threads ever add into the same gradient element.

import Compute
import HostMemory

extension ReferenceBackend {
    /// Row mean and variance in Double; saves mean and rstd = 1/sqrt(var + eps) per row.
    public func uncheckedLayerNormForward(out: BufferView, mean: BufferView, rstd: BufferView,
                                          input: BufferView, weight: BufferView, bias: BufferView?,
                                          rows: Int, cols: Int, epsilon: Float) throws {
        let x = input.hostFloats, y = out.hostFloats
        let means = mean.hostFloats, rstds = rstd.hostFloats
        let w = weight.hostFloats
        let b = bias.map { $0.hostFloats }
        parallelFor(rows, grain: rowGrain(cols)) { range in
            for r in range {
                let row = x + r * cols, outRow = y + r * cols
                var sum = 0.0
                for c in 0..<cols { sum += Double(row[c]) }
                let mu = sum / Double(cols)
                var squares = 0.0
                for c in 0..<cols {
                    let d = Double(row[c]) - mu
                    squares += d * d
                }
                let s = 1 / (squares / Double(cols) + Double(epsilon)).squareRoot()
                for c in 0..<cols {
                    let shift = b.map { Double($0[c]) } ?? 0
                    outRow[c] = Float((Double(row[c]) - mu) * s * Double(w[c]) + shift)
                }
                means[r] = Float(mu)
                rstds[r] = Float(s)
            }
        }
    }

    /// With n = (x - mean) * rstd and g = dout * weight:
    ///   dx = rstd * (g - mean(g) - n * mean(g * n)),  dweight += sum_r dout * n,  dbias += sum_r dout.
    public func uncheckedLayerNormBackward(dinput: BufferView, dweight: BufferView, dbias: BufferView?,
                                           dout: BufferView, input: BufferView, weight: BufferView,
                                           mean: BufferView, rstd: BufferView, rows: Int, cols: Int) throws {
        let dx = dinput.hostFloats, dw = dweight.hostFloats
        let db = dbias.map { $0.hostFloats }
        let dy = dout.hostFloats, x = input.hostFloats
        let w = weight.hostFloats
        let means = mean.hostFloats, rstds = rstd.hostFloats
        @inline(__always) func normalized(_ r: Int, _ c: Int) -> Double {
            (Double(x[r * cols + c]) - Double(means[r])) * Double(rstds[r])
        }

        parallelFor(rows, grain: rowGrain(cols)) { range in
            for r in range {
                var meanG = 0.0, meanGN = 0.0
                for c in 0..<cols {
                    let g = Double(dy[r * cols + c]) * Double(w[c])
                    meanG += g
                    meanGN += g * normalized(r, c)
                }
                meanG /= Double(cols)
                meanGN /= Double(cols)
                let s = Double(rstds[r])
                for c in 0..<cols {
                    let g = Double(dy[r * cols + c]) * Double(w[c])
                    let index = r * cols + c
                    dx[index] = Float(Double(dx[index]) + s * (g - meanG - normalized(r, c) * meanGN))
                }
            }
        }
        Self.accumulateColumnSums(into: dw, rows: rows, cols: cols, backend: self) { r, c in
            Double(dy[r * cols + c]) * normalized(r, c)
        }
        if let db {
            Self.accumulateColumnSums(into: db, rows: rows, cols: cols, backend: self) { r, c in
                Double(dy[r * cols + c])
            }
        }
    }

    /// Row mean square in Double; saves rstd = 1/sqrt(mean(x^2) + eps) per row.
    public func uncheckedRMSNormForward(out: BufferView, rstd: BufferView, input: BufferView, weight: BufferView,
                                        rows: Int, cols: Int, epsilon: Float) throws {
        let x = input.hostFloats, y = out.hostFloats
        let rstds = rstd.hostFloats, w = weight.hostFloats
        parallelFor(rows, grain: rowGrain(cols)) { range in
            for r in range {
                let row = x + r * cols, outRow = y + r * cols
                var squares = 0.0
                for c in 0..<cols { squares += Double(row[c]) * Double(row[c]) }
                let s = 1 / (squares / Double(cols) + Double(epsilon)).squareRoot()
                for c in 0..<cols { outRow[c] = Float(Double(row[c]) * s * Double(w[c])) }
                rstds[r] = Float(s)
            }
        }
    }

    /// With g = dout * weight: dx = rstd * g - x * rstd^3 * mean(g * x),  dweight += sum_r dout * x * rstd.
    public func uncheckedRMSNormBackward(dinput: BufferView, dweight: BufferView, dout: BufferView,
                                         input: BufferView, weight: BufferView, rstd: BufferView,
                                         rows: Int, cols: Int) throws {
        let dx = dinput.hostFloats, dw = dweight.hostFloats
        let dy = dout.hostFloats, x = input.hostFloats
        let w = weight.hostFloats, rstds = rstd.hostFloats

        parallelFor(rows, grain: rowGrain(cols)) { range in
            for r in range {
                var meanGX = 0.0
                for c in 0..<cols {
                    meanGX += Double(dy[r * cols + c]) * Double(w[c]) * Double(x[r * cols + c])
                }
                meanGX /= Double(cols)
                let s = Double(rstds[r])
                for c in 0..<cols {
                    let index = r * cols + c
                    let g = Double(dy[index]) * Double(w[c])
                    dx[index] = Float(Double(dx[index]) + s * g - Double(x[index]) * s * s * s * meanGX)
                }
            }
        }
        Self.accumulateColumnSums(into: dw, rows: rows, cols: cols, backend: self) { r, c in
            Double(dy[r * cols + c]) * Double(x[r * cols + c]) * Double(rstds[r])
        }
    }
}
