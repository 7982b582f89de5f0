// AdamW over a flat parameter buffer and the squared global norm (for gradient clipping) on the
// BLAS backend: one pass over memory each, SIMD8, one contiguous chunk per thread.

import Compute
import HostMemory

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension BLASBackend {
    public func uncheckedAdamW(parameters: BufferView, gradients: BufferView, firstMoment: BufferView,
                               secondMoment: BufferView, learningRate: Float, beta1: Float, beta2: Float,
                               epsilon: Float, weightDecay: Float, step: Int, gradientScale: Float) throws {
        let pp = parameters.hostFloats, pg = gradients.hostFloats
        let pm = firstMoment.hostFloats, pv = secondMoment.hostFloats
        // Bias corrections once, in Double (beta^t for large t), folded into two Float factors.
        let firstCorrection = Float(1 / (1 - pow(Double(beta1), Double(step))))
        let secondCorrection = Float(1 / (1 - pow(Double(beta2), Double(step))))
        let count = parameters.count
        let oneMinusBeta1 = 1 - beta1, oneMinusBeta2 = 1 - beta2
        @inline(__always) func update(_ p: Float8, _ grad: Float8, _ m: Float8, _ v: Float8)
            -> (p: Float8, m: Float8, v: Float8) {
            let g = grad * gradientScale
            let m2 = beta1 * m + oneMinusBeta1 * g
            let v2 = beta2 * v + oneMinusBeta2 * (g * g)
            let mhat = m2 * firstCorrection
            let vhat = v2 * secondCorrection
            let p2 = p - learningRate * (mhat / (vhat.squareRoot() + epsilon) + weightDecay * p)
            return (p2, m2, v2)
        }
        let vectors = count / 8
        parallelFor(vectors, grain: BLASBackend.elementGrain / 8) { range in
            for vector in range {
                let i = vector * 8
                let r = update(VectorMath.load(pp + i), VectorMath.load(pg + i),
                               VectorMath.load(pm + i), VectorMath.load(pv + i))
                VectorMath.store(r.p, pp + i)
                VectorMath.store(r.m, pm + i)
                VectorMath.store(r.v, pv + i)
            }
        }
        let i = vectors * 8, n = count - i
        if n > 0 {
            let r = update(VectorMath.load(pp + i, count: n), VectorMath.load(pg + i, count: n),
                           VectorMath.load(pm + i, count: n), VectorMath.load(pv + i, count: n))
            VectorMath.store(r.p, pp + i, count: n)
            VectorMath.store(r.m, pm + i, count: n)
            VectorMath.store(r.v, pv + i, count: n)
        }
    }

    /// Per-chunk sums (SIMD Float within 4K-element blocks, blocks added in Double), then the
    /// chunks added in order: deterministic for a given thread count.
    public func uncheckedSquaredNorm(result: BufferView, input: BufferView) throws {
        let pr = result.hostFloats, px = input.hostFloats
        let count = input.count
        let grain = 4 * BLASBackend.elementGrain
        let chunks = chunkCount(count, grain: grain)
        // A few Doubles on the stack: no heap allocation per step.
        pr[0] = withUnsafeTemporaryAllocation(of: Double.self, capacity: chunks) { sums in
            sums.initialize(repeating: 0)
            parallelChunks(count, grain: grain) { chunk, range in
                sums[chunk] = VectorMath.sumOfSquares(px + range.lowerBound, range.count)
            }
            return Float(sums.reduce(0, +))
        }
    }
}
