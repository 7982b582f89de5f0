// GELU (tanh approximation), ReLU, fused SwiGLU and counter-RNG dropout on the BLAS backend:
// elementwise SIMD8 loops, one contiguous chunk per thread. GELU's math is BLASKernels'
// GELUKernel, in the build of the vector kernels the CPU runs (BLASBackend+Kernels.swift).
//
// Each elementwise op is a small kernel struct run by the generic `elementwise` loop: the loop is
// specialised per kernel, so the per-vector call is inlined (a closure here would be an indirect
// call per 8 elements).

import BLASKernels
import Compute
import HostMemory

/// One elementwise op: `apply(at: i, count: n)` computes elements i ..< i + n (n in 1...8).
protocol ElementwiseKernel {
    func apply(at i: Int, count n: Int)
}

/// `x > 0 ? x : 0`, like the reference: NaN maps to 0.
private struct ReLUForward: ElementwiseKernel {
    let input: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>
    @inline(__always) func apply(at i: Int, count n: Int) {
        let x = VectorMath.load(input + i, upTo: n)
        VectorMath.store(Float8().replacing(with: x, where: x .> 0), out + i, upTo: n)
    }
}

private struct ReLUBackward: ElementwiseKernel {
    let input: UnsafeMutablePointer<Float>, dout: UnsafeMutablePointer<Float>, dinput: UnsafeMutablePointer<Float>
    @inline(__always) func apply(at i: Int, count n: Int) {
        let d = VectorMath.load(dout + i, upTo: n)
        VectorMath.store(Float8().replacing(with: d, where: VectorMath.load(input + i, upTo: n) .> 0),
                         dinput + i, upTo: n)
    }
}

/// out[i] = keep(i) ? input[i] / (1 - p) : 0, keep(i) = CounterRNG.uniform(seed, i) >= p, with the
/// hash evaluated eight lanes at a time using exactly CounterRNG's 32-bit integer steps.
private struct Dropout: ElementwiseKernel {
    let input: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>
    let probability: Float, keepScale: Float
    /// CounterRNG.bits(seed, i) = hash(hash(i ^ streamLow) ^ streamHigh).
    let streamLow: UInt32, streamHigh: UInt32

    init(input: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, probability: Float, seed: UInt64) {
        self.input = input
        self.out = out
        self.probability = probability
        keepScale = 1 / (1 - probability)
        streamLow = CounterRNG.hash32(UInt32(truncatingIfNeeded: seed))
        streamHigh = CounterRNG.hash32(UInt32(truncatingIfNeeded: seed >> 32) &+ 0x9e37_79b9)
    }

    @inline(__always) func apply(at i: Int, count n: Int) {
        let index = SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: i)) &+ SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7)
        let bits = Dropout.hash32(Dropout.hash32(index ^ streamLow) ^ streamHigh)
        let uniform = Float8(SIMD8<Int32>(truncatingIfNeeded: bits &>> 8)) * (1.0 / 16_777_216.0)
        let value = VectorMath.load(input + i, upTo: n) * keepScale
        VectorMath.store(Float8().replacing(with: value, where: uniform .>= probability), out + i, upTo: n)
    }

    /// CounterRNG.hash32 on eight lanes.
    @inline(__always)
    static func hash32(_ value: SIMD8<UInt32>) -> SIMD8<UInt32> {
        var x = value
        x ^= x &>> 16
        x &*= 0x7feb_352d
        x ^= x &>> 15
        x &*= 0x846c_a68b
        x ^= x &>> 16
        return x
    }
}

extension BLASBackend {
    public func uncheckedGeluForward(out: BufferView, input: BufferView) throws {
        let po = out.hostFloats, px = input.hostFloats
        let kernel = kernels.geluForward
        parallelVectors(input.count, grain: BLASBackend.elementGrain) { range in
            kernel(px + range.lowerBound, po + range.lowerBound, range.count)
        }
    }

    public func uncheckedGeluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        let pdx = dinput.hostFloats, pdy = dout.hostFloats
        let px = input.hostFloats
        let kernel = kernels.geluBackward
        parallelVectors(input.count, grain: BLASBackend.elementGrain) { range in
            kernel(px + range.lowerBound, pdy + range.lowerBound, pdx + range.lowerBound, range.count)
        }
    }

    public func uncheckedReluForward(out: BufferView, input: BufferView) throws {
        let po = out.hostFloats, px = input.hostFloats
        elementwise(count: input.count, ReLUForward(input: px, out: po))
    }

    public func uncheckedReluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        let pdx = dinput.hostFloats, pdy = dout.hostFloats
        let px = input.hostFloats
        elementwise(count: input.count, ReLUBackward(input: px, dout: pdy, dinput: pdx))
    }

    public func uncheckedSwigluForward(out: BufferView, input: BufferView, rows: Int, hidden: Int) throws {
        let po = out.hostFloats, px = input.hostFloats
        parallelFor(rows, grain: rowGrain(2 * hidden)) { range in
            for row in range {
                let gate = px + row * 2 * hidden, up = gate + hidden, y = po + row * hidden
                @inline(__always) func columns(_ j: Int, _ n: Int) {
                    let g = VectorMath.load(gate + j, upTo: n)
                    VectorMath.store(g * VectorMath.sigmoid(g) * VectorMath.load(up + j, upTo: n), y + j, upTo: n)
                }
                var j = 0
                while j + 8 <= hidden {
                    columns(j, 8)
                    j += 8
                }
                if j < hidden { columns(j, hidden - j) }
            }
        }
    }

    /// s = sigmoid(g): dg = dout u s (1 + g (1 - s)), du = dout g s.
    public func uncheckedSwigluBackward(dinput: BufferView, dout: BufferView, input: BufferView,
                                        rows: Int, hidden: Int) throws {
        let pdx = dinput.hostFloats, pdy = dout.hostFloats
        let px = input.hostFloats
        parallelFor(rows, grain: rowGrain(2 * hidden)) { range in
            for row in range {
                let gate = px + row * 2 * hidden, up = gate + hidden, dy = pdy + row * hidden
                let dgate = pdx + row * 2 * hidden, dup = dgate + hidden
                @inline(__always) func columns(_ j: Int, _ n: Int) {
                    let g = VectorMath.load(gate + j, upTo: n)
                    let u = VectorMath.load(up + j, upTo: n)
                    let d = VectorMath.load(dy + j, upTo: n)
                    let s = VectorMath.sigmoid(g)
                    VectorMath.store(d * u * s * (1 + g * (1 - s)), dgate + j, upTo: n)
                    VectorMath.store(d * g * s, dup + j, upTo: n)
                }
                var j = 0
                while j + 8 <= hidden {
                    columns(j, 8)
                    j += 8
                }
                if j < hidden { columns(j, hidden - j) }
            }
        }
    }

    /// The mask depends only on seed and index, so forward and backward are this one map.
    public func uncheckedDropout(out: BufferView, input: BufferView, probability: Float, seed: UInt64) throws {
        let po = out.hostFloats, px = input.hostFloats
        if probability == 0 {
            if po != px { po.update(from: px, count: input.count) }
            return
        }
        elementwise(count: input.count, Dropout(input: px, out: po, probability: probability, seed: seed))
    }

    /// Runs `kernel` over `count` elements in vectors of 8, one contiguous chunk per thread, and
    /// the partial last vector on the calling thread.
    func elementwise<Kernel: ElementwiseKernel>(count: Int, _ kernel: Kernel) {
        // Full vectors with a constant count (the partial-load branch folds away), then the tail.
        let vectors = count / 8
        parallelFor(vectors, grain: BLASBackend.elementGrain / 8) { range in
            for vector in range { kernel.apply(at: vector * 8, count: 8) }
        }
        if count % 8 != 0 { kernel.apply(at: vectors * 8, count: count % 8) }
    }
}
