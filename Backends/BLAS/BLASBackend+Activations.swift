// GELU (tanh approximation), ReLU, fused SwiGLU and counter-RNG dropout on the BLAS backend:
// elementwise SIMD8 loops, one contiguous chunk per thread. GELU, SwiGLU and dropout are
// BLASKernels' kernels, in the build of the vector kernels the CPU runs (BLASBackend+Kernels.swift).
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

extension BLASBackend {
    /// GELU (tanh form) with the vector kernel of the CPU's build, contiguous chunks per thread.
    public func uncheckedGeluForward(out: BufferView, input: BufferView) throws {
        let po = out.hostFloats, px = input.hostFloats
        let kernel = kernels.geluForward
        parallelVectors(input.count, grain: BLASBackend.elementGrain) { range in
            kernel(px + range.lowerBound, po + range.lowerBound, range.count)
        }
    }

    /// GELU's input gradient with the vector kernel of the CPU's build (overwrites dinput).
    public func uncheckedGeluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        let pdx = dinput.hostFloats, pdy = dout.hostFloats
        let px = input.hostFloats
        let kernel = kernels.geluBackward
        parallelVectors(input.count, grain: BLASBackend.elementGrain) { range in
            kernel(px + range.lowerBound, pdy + range.lowerBound, pdx + range.lowerBound, range.count)
        }
    }

    /// max(x, 0) in SIMD8 chunks.
    public func uncheckedReluForward(out: BufferView, input: BufferView) throws {
        let po = out.hostFloats, px = input.hostFloats
        elementwise(count: input.count, ReLUForward(input: px, out: po))
    }

    /// dout where the input is positive, 0 elsewhere (overwrites dinput).
    public func uncheckedReluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        let pdx = dinput.hostFloats, pdy = dout.hostFloats
        let px = input.hostFloats
        elementwise(count: input.count, ReLUBackward(input: px, dout: pdy, dinput: pdx))
    }

    /// SiLU(gate) · up per row with the vector kernel; rows split over the workers.
    public func uncheckedSwigluForward(out: BufferView, input: BufferView, rows: Int, hidden: Int) throws {
        let po = out.hostFloats, px = input.hostFloats
        let kernel = kernels.swigluForward
        parallelFor(rows, grain: rowGrain(2 * hidden)) { range in
            for row in range {
                let gate = px + row * 2 * hidden
                kernel(gate, gate + hidden, po + row * hidden, hidden)
            }
        }
    }

    /// Gradients of gate and up per row with the vector kernel (overwrites dinput).
    public func uncheckedSwigluBackward(dinput: BufferView, dout: BufferView, input: BufferView,
                                        rows: Int, hidden: Int) throws {
        let pdx = dinput.hostFloats, pdy = dout.hostFloats
        let px = input.hostFloats
        let kernel = kernels.swigluBackward
        parallelFor(rows, grain: rowGrain(2 * hidden)) { range in
            for row in range {
                let gate = px + row * 2 * hidden, dgate = pdx + row * 2 * hidden
                kernel(gate, gate + hidden, pdy + row * hidden, dgate, dgate + hidden, hidden)
            }
        }
    }

    /// The mask depends only on seed and index, so forward and backward are this one map.
    public func uncheckedDropout(out: BufferView, input: BufferView, probability: Float, seed: UInt64,
                                 firstIndex: Int) throws {
        let po = out.hostFloats, px = input.hostFloats
        if probability == 0 {
            if po != px { po.update(from: px, count: input.count) }
            return
        }
        let mask = DropoutMask(
            probability: probability, streamLow: CounterRNG.hash32(UInt32(truncatingIfNeeded: seed)),
            streamHigh: CounterRNG.hash32(UInt32(truncatingIfNeeded: seed >> 32) &+ 0x9e37_79b9))
        let kernel = kernels.dropout
        parallelVectors(input.count, grain: BLASBackend.elementGrain) { range in
            kernel(mask, px + range.lowerBound, po + range.lowerBound, firstIndex + range.lowerBound, range.count)
        }
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
