// AdamW over a flat parameter buffer and the squared global norm (for gradient clipping), for the
// reference backend. AdamW runs elementwise in Double; the norm sums fixed-size chunks in Double and
// adds the chunk sums in order, so the result does not depend on the thread count.

import Compute

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ReferenceBackend {
    public func adamW(parameters: BufferView, gradients: BufferView, firstMoment: BufferView,
                      secondMoment: BufferView, learningRate: Float, beta1: Float, beta2: Float,
                      epsilon: Float, weightDecay: Float, step: Int, gradientScale: Float) throws {
        let op = "adamW", count = parameters.count
        try Profiler.measure(profiler, op, shape: "n=\(count) step=\(step)", flops: 16 * Double(count),
                             bytes: 28 * Double(count)) {
            guard step >= 1 else {
                throw BackendError.invalidArgument(op: op, reason: "step must be at least 1, got \(step)")
            }
            try Check.count(op, "gradients", gradients, count)
            try Check.count(op, "firstMoment", firstMoment, count)
            try Check.count(op, "secondMoment", secondMoment, count)
            let p = try floats(op, "parameters", parameters), g = try floats(op, "gradients", gradients)
            let m = try floats(op, "firstMoment", firstMoment), v = try floats(op, "secondMoment", secondMoment)
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
    }

    public func squaredNorm(result: BufferView, input: BufferView) throws {
        let op = "squaredNorm", count = input.count
        try Profiler.measure(profiler, op, shape: "n=\(count)", flops: 2 * Double(count), bytes: 4 * Double(count)) {
            try Check.count(op, "result", result, 1)
            let x = try floats(op, "input", input), out = try floats(op, "result", result)
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
}
