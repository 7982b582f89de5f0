// Row softmax (forward and backward) and fused softmax + cross-entropy on the BLAS backend:
// row-parallel, SIMD8 with the vector exp. The cross-entropy writes e^(x - max) into dlogits in
// the same pass that sums it, then scales: one exp per logit even for a 50K vocabulary.

import Compute
import HostMemory

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension BLASBackend {
    /// Rows per chunk for a row op that takes an exponential per element: an exp costs about as
    /// much as 16 memory-bound element operations, so a chunk is worth a thread at 1/16 of the
    /// elements (char-baby's 768 × 65 logits: two chunks instead of one 130 µs pass).
    func exponentialRowGrain(_ width: Int) -> Int { rowGrain(16 * width) }

    /// Row softmax with the vector exp, rows split over the workers.
    public func uncheckedSoftmaxForward(out: BufferView, input: BufferView, rows: Int, cols: Int) throws {
        let po = out.hostFloats, px = input.hostFloats
        parallelFor(rows, grain: exponentialRowGrain(cols)) { range in
            for row in range {
                let x = px + row * cols, y = po + row * cols
                let sum = BLASBackend.exponentiate(y, x, cols, shift: BLASBackend.rowMax(x, cols))
                BLASBackend.scaleRow(y, cols, by: 1 / sum)
            }
        }
    }

    /// Row softmax gradient from the saved output (overwrites dinput).
    public func uncheckedSoftmaxBackward(dinput: BufferView, dout: BufferView, out: BufferView,
                                         rows: Int, cols: Int) throws {
        let pdx = dinput.hostFloats, pdy = dout.hostFloats
        let py = out.hostFloats
        parallelFor(rows, grain: rowGrain(cols)) { range in
            for row in range {
                let dy = pdy + row * cols, y = py + row * cols, dx = pdx + row * cols
                var dot = Float8(), tail: Float = 0
                var j = 0
                while j + 8 <= cols {
                    dot += VectorMath.load(dy + j) * VectorMath.load(y + j)
                    j += 8
                }
                while j < cols {
                    tail += dy[j] * y[j]
                    j += 1
                }
                let total = dot.sum() + tail
                j = 0
                while j + 8 <= cols {
                    VectorMath.store(VectorMath.load(y + j) * (VectorMath.load(dy + j) - total), dx + j)
                    j += 8
                }
                while j < cols {
                    dx[j] = y[j] * (dy[j] - total)
                    j += 1
                }
            }
        }
    }

    /// Softmax and cross-entropy in one pass per row: e^(x - max) goes into dlogits as it is summed, then scaled.
    public func uncheckedCrossEntropyForward(losses: BufferView, dlogits: BufferView?, logits: BufferView,
                                             targets: BufferView, rows: Int, vocabulary: Int,
                                             gradientScale: Float) throws {
        let ploss = losses.hostFloats, px = logits.hostFloats
        let pd = dlogits.map { $0.hostFloats }
        let ptargets = targets.hostInt32s
        parallelFor(rows, grain: exponentialRowGrain(vocabulary)) { range in
            for row in range {
                let x = px + row * vocabulary
                let target = Int(ptargets[row])
                guard target >= 0 else {
                    ploss[row] = 0
                    pd?.advanced(by: row * vocabulary).update(repeating: 0, count: vocabulary)
                    continue
                }
                let targetLogit = x[target]
                let maximum = BLASBackend.rowMax(x, vocabulary)
                if let pd {
                    let d = pd + row * vocabulary
                    let sum = BLASBackend.exponentiate(d, x, vocabulary, shift: maximum)
                    ploss[row] = logf(sum) + maximum - targetLogit
                    BLASBackend.scaleRow(d, vocabulary, by: gradientScale / sum)
                    d[target] -= gradientScale
                } else {
                    ploss[row] = logf(BLASBackend.sumOfExponentials(x, vocabulary, shift: maximum))
                        + maximum - targetLogit
                }
            }
        }
    }

    // MARK: - Row helpers

    /// Largest element of a row (NaNs do not win; they propagate through the exp that follows).
    @inline(__always)
    static func rowMax(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var best = Float8(repeating: -.infinity), tail = -Float.infinity
        var j = 0
        while j + 8 <= count {
            // `replacing` rather than pointwiseMax: the latter is an unspecialised stdlib call.
            let v = VectorMath.load(x + j)
            best = best.replacing(with: v, where: v .> best)
            j += 8
        }
        while j < count {
            tail = max(tail, x[j])
            j += 1
        }
        return max(best.max(), tail)
    }

    /// y[j] = e^(x[j] - shift); returns the sum. y may alias x.
    @inline(__always)
    static func exponentiate(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int,
                             shift: Float) -> Float {
        var sum = Float8()
        var j = 0
        while j + 8 <= count {
            let e = VectorMath.exp(VectorMath.load(x + j) - shift)
            VectorMath.store(e, y + j)
            sum += e
            j += 8
        }
        var total = sum.sum()
        if j < count {
            let n = count - j
            let e = VectorMath.exp(VectorMath.load(x + j, count: n) - shift)
            VectorMath.store(e, y + j, count: n)
            for lane in 0..<n { total += e[lane] }
        }
        return total
    }

    /// Sum of e^(x[j] - shift), without storing.
    @inline(__always)
    static func sumOfExponentials(_ x: UnsafePointer<Float>, _ count: Int, shift: Float) -> Float {
        var sum = Float8()
        var j = 0
        while j + 8 <= count {
            sum += VectorMath.exp(VectorMath.load(x + j) - shift)
            j += 8
        }
        var total = sum.sum()
        if j < count {
            let n = count - j
            let e = VectorMath.exp(VectorMath.load(x + j, count: n) - shift)
            for lane in 0..<n { total += e[lane] }
        }
        return total
    }

    /// y[j] *= factor.
    @inline(__always)
    static func scaleRow(_ y: UnsafeMutablePointer<Float>, _ count: Int, by factor: Float) {
        var j = 0
        while j + 8 <= count {
            VectorMath.store(VectorMath.load(y + j) * factor, y + j)
            j += 8
        }
        while j < count {
            y[j] *= factor
            j += 1
        }
    }
}
