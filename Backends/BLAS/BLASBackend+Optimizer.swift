// AdamW over a flat parameter buffer and the squared global norm (for gradient clipping) on the
// BLAS backend: one pass over memory each, SIMD8, one contiguous chunk per thread. AdamW's math is
// BLASKernels' AdamWKernel, in the build of the vector kernels the CPU runs.

import BLASKernels
import Compute
import HostMemory

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension BLASBackend {
    /// One fused pass over the flat buffers with the AdamW kernel of the CPU's build, one contiguous chunk per thread.
    public func uncheckedAdamW(parameters: BufferView, gradients: BufferView, firstMoment: BufferView,
                               secondMoment: BufferView, learningRate: Float, beta1: Float, beta2: Float,
                               epsilon: Float, weightDecay: Float, step: Int, gradientScale: Float) throws {
        let pp = parameters.hostFloats, pg = gradients.hostFloats
        let pm = firstMoment.hostFloats, pv = secondMoment.hostFloats
        // Bias corrections once, in Double (beta^t for large t), folded into two Float factors.
        let step = AdamWStep(
            learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
            gradientScale: gradientScale,
            firstCorrection: Float(1 / (1 - pow(Double(beta1), Double(step)))),
            secondCorrection: Float(1 / (1 - pow(Double(beta2), Double(step)))))
        let kernel = kernels.adamW
        parallelVectors(parameters.count, grain: BLASBackend.elementGrain) { range in
            let i = range.lowerBound
            kernel(step, pp + i, pg + i, pm + i, pv + i, range.count)
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
