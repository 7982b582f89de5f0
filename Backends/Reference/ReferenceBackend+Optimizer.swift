// AdamW over a flat parameter buffer and the squared global norm (for gradient clipping), for the
// reference backend. AdamW runs elementwise in Double; the norm sums fixed-size chunks in Double and
// adds the chunk sums in order, so the result does not depend on the thread count.

import Compute
import HostMemory

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ReferenceBackend {
    /// One AdamW step per element in Double, with decoupled weight decay and bias correction.
    public func uncheckedAdamW(parameters: BufferView, gradients: BufferView, firstMoment: BufferView,
                               secondMoment: BufferView, learningRate: Float, beta1: Float, beta2: Float,
                               epsilon: Float, weightDecay: Float, step: Int, gradientScale: Float) throws {
        let count = parameters.count
        let p = parameters.hostFloats, g = gradients.hostFloats
        let m = firstMoment.hostFloats, v = secondMoment.hostFloats
        let (lr, b1, b2) = (Double(learningRate), Double(beta1), Double(beta2))
        let (eps, decay, gScale) = (Double(epsilon), Double(weightDecay), Double(gradientScale))
        let correction1 = 1 - pow(b1, Double(step)), correction2 = 1 - pow(b2, Double(step))
        parallelFor(count, grain: elementGrain) { range in
            for i in range {
                let gradient = gScale * Double(g[i])
                let first = b1 * Double(m[i]) + (1 - b1) * gradient
                let second = b2 * Double(v[i]) + (1 - b2) * gradient * gradient
                m[i] = Float(first)
                v[i] = Float(second)
                let update = (first / correction1) / ((second / correction2).squareRoot() + eps)
                let parameter = Double(p[i])
                p[i] = Float(parameter - lr * (update + decay * parameter))
            }
        }
    }

    /// Sum of squares in fixed chunks of Double, chunk sums added in order (thread-count independent).
    public func uncheckedSquaredNorm(result: BufferView, input: BufferView) throws {
        let count = input.count
        let x = input.hostFloats, out = result.hostFloats
        let chunkSize = 65_536
        let chunks = (count + chunkSize - 1) / chunkSize
        var partial = [Double](repeating: 0, count: chunks)
        partial.withUnsafeMutableBufferPointer { partial in
            parallelFor(chunks) { range in
                for chunk in range {
                    var sum = 0.0
                    for i in (chunk * chunkSize)..<min(count, (chunk + 1) * chunkSize) {
                        sum += Double(x[i]) * Double(x[i])
                    }
                    partial[chunk] = sum
                }
            }
        }
        out[0] = Float(partial.reduce(0, +))
    }
}
