// LayerNorm and RMSNorm on the BLAS backend, forward and backward, row-parallel: LayerNorm through
// the vector kernels (the build the CPU runs), RMSNorm with SIMD8 rows here.
// Weight gradients are per-chunk partial sums in scratch, reduced afterwards in chunk order, so
// they are deterministic for a given thread count and need no atomics.

import BLASKernels
import Compute
import HostMemory

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension BLASBackend {
    /// Row-parallel LayerNorm: each chunk of rows one call of the vector kernel
    /// (Kernels/LayerNormKernel.swift); saves mean and 1/std for the backward.
    public func uncheckedLayerNormForward(out: BufferView, mean: BufferView, rstd: BufferView,
                                          input: BufferView, weight: BufferView, bias: BufferView?,
                                          rows: Int, cols: Int, epsilon: Float) throws {
        let po = out.hostFloats, px = UnsafePointer(input.hostFloats), pw = UnsafePointer(weight.hostFloats)
        let pb = bias.map { UnsafePointer($0.hostFloats) }, pmean = mean.hostFloats, prstd = rstd.hostFloats
        let kernel = kernels.layerNormForward
        parallelFor(rows, grain: rowGrain(cols)) { range in
            let first = range.lowerBound
            kernel(LayerNormKernel.Rows(rows: range.count, cols: cols, input: px + first * cols, weight: pw, bias: pb,
                                        mean: pmean + first, rstd: prstd + first),
                   epsilon, po + first * cols)
        }
    }

    /// dinput += rstd (g - mean(g) - xhat mean(g xhat)), dweight += dout xhat, dbias += dout, with
    /// xhat = (x - mean) rstd and g = dout * weight: each chunk of rows one call of the vector
    /// kernel into its own partial dweight and dbias.
    public func uncheckedLayerNormBackward(dinput: BufferView, dweight: BufferView, dbias: BufferView?,
                                           dout: BufferView, input: BufferView, weight: BufferView,
                                           mean: BufferView, rstd: BufferView, rows: Int, cols: Int) throws {
        let pdx = dinput.hostFloats, pdw = dweight.hostFloats
        let pdb = dbias.map { $0.hostFloats }
        let pdy = UnsafePointer(dout.hostFloats), px = UnsafePointer(input.hostFloats)
        let pw = UnsafePointer(weight.hostFloats), pmean = mean.hostFloats, prstd = rstd.hostFloats
        let grain = rowGrain(cols)
        let chunks = chunkCount(rows, grain: grain)
        let partials = scratch(chunks * 2 * cols)
        partials.update(repeating: 0, count: chunks * 2 * cols)
        let kernel = kernels.layerNormBackward, hasBias = pdb != nil
        parallelChunks(rows, grain: grain) { chunk, range in
            let dw = partials + chunk * 2 * cols, first = range.lowerBound
            kernel(LayerNormKernel.Rows(rows: range.count, cols: cols, input: px + first * cols, weight: pw, bias: nil,
                                        mean: pmean + first, rstd: prstd + first),
                   pdy + first * cols, pdx + first * cols, dw, hasBias ? dw + cols : nil)
        }
        for chunk in 0..<chunks {
            let dw = partials + chunk * 2 * cols, db = dw + cols
            for j in 0..<cols { pdw[j] += dw[j] }
            if let pdb { for j in 0..<cols { pdb[j] += db[j] } }
        }
    }

    /// Row-parallel RMSNorm with SIMD8 rows; saves 1/rms for the backward.
    public func uncheckedRMSNormForward(out: BufferView, rstd: BufferView, input: BufferView, weight: BufferView,
                                        rows: Int, cols: Int, epsilon: Float) throws {
        let po = out.hostFloats, prstd = rstd.hostFloats
        let px = input.hostFloats, pw = weight.hostFloats
        let inverseCols = 1 / Float(cols)
        parallelFor(rows, grain: rowGrain(cols)) { range in
            for row in range {
                let x = px + row * cols, y = po + row * cols
                var squares = Float8(), tail: Float = 0
                var j = 0
                while j + 8 <= cols {
                    let v = VectorMath.load(x + j)
                    squares += v * v
                    j += 8
                }
                while j < cols {
                    tail += x[j] * x[j]
                    j += 1
                }
                let s = 1 / sqrtf((squares.sum() + tail) * inverseCols + epsilon)
                prstd[row] = s
                j = 0
                while j + 8 <= cols {
                    VectorMath.store(VectorMath.load(x + j) * s * VectorMath.load(pw + j), y + j)
                    j += 8
                }
                while j < cols {
                    y[j] = x[j] * s * pw[j]
                    j += 1
                }
            }
        }
    }

    /// xhat = x rstd, g = dout * weight: dinput += rstd (g - xhat mean(g xhat)), dweight += dout xhat.
    public func uncheckedRMSNormBackward(dinput: BufferView, dweight: BufferView, dout: BufferView,
                                         input: BufferView, weight: BufferView, rstd: BufferView,
                                         rows: Int, cols: Int) throws {
        let pdx = dinput.hostFloats, pdw = dweight.hostFloats
        let pdy = dout.hostFloats, px = input.hostFloats
        let pw = weight.hostFloats, prstd = rstd.hostFloats
        let grain = rowGrain(cols)
        let chunks = chunkCount(rows, grain: grain)
        let partials = scratch(chunks * cols)
        partials.update(repeating: 0, count: chunks * cols)
        let inverseCols = 1 / Float(cols)
        parallelChunks(rows, grain: grain) { chunk, range in
            let dw = partials + chunk * cols
            for row in range {
                let x = px + row * cols, dy = pdy + row * cols, dx = pdx + row * cols
                let s = prstd[row]
                var sumGX = Float8(), tail: Float = 0
                var j = 0
                while j + 8 <= cols {
                    sumGX += VectorMath.load(dy + j) * VectorMath.load(pw + j) * (VectorMath.load(x + j) * s)
                    j += 8
                }
                while j < cols {
                    tail += dy[j] * pw[j] * (x[j] * s)
                    j += 1
                }
                let meanGX = (sumGX.sum() + tail) * inverseCols
                j = 0
                while j + 8 <= cols {
                    let d = VectorMath.load(dy + j)
                    let xhat = VectorMath.load(x + j) * s
                    let g = d * VectorMath.load(pw + j)
                    VectorMath.store(VectorMath.load(dx + j) + (g - xhat * meanGX) * s, dx + j)
                    VectorMath.store(VectorMath.load(dw + j) + d * xhat, dw + j)
                    j += 8
                }
                while j < cols {
                    let xhat = x[j] * s
                    dx[j] += (dy[j] * pw[j] - xhat * meanGX) * s
                    dw[j] += dy[j] * xhat
                    j += 1
                }
            }
        }
        for chunk in 0..<chunks {
            let dw = partials + chunk * cols
            for j in 0..<cols { pdw[j] += dw[j] }
        }
    }
}
