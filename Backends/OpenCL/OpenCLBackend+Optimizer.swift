// AdamW (Kernels/optimizer.cl) and the squared global norm, a deterministic two-pass reduction
// (Kernels/reduce.cl).

import Compute

#if canImport(Glibc)
import Glibc
#endif

extension OpenCLBackend {
    /// Enqueues `optimizer_adamw`, one work-item per parameter; returns once queued.
    public func uncheckedAdamW(parameters: BufferView, gradients: BufferView, firstMoment: BufferView,
                               secondMoment: BufferView, learningRate: Float, beta1: Float, beta2: Float,
                               epsilon: Float, weightDecay: Float, step: Int, gradientScale: Float) throws {
        let n = parameters.count
        // Bias corrections in Double, so a late step's 1 - beta^t keeps its precision.
        let correction1 = Float(1 - pow(Double(beta1), Double(step)))
        let correction2 = Float(1 - pow(Double(beta2), Double(step)))
        let local = elementThreads
        try launch("optimizer_adamw", program: .optimizer, global: [roundUp(n, local)], local: [local], [
            .view(parameters), .view(gradients), .view(firstMoment), .view(secondMoment), .int(n),
            .float(learningRate), .float(beta1), .float(beta2), .float(epsilon), .float(weightDecay),
            .float(gradientScale), .float(correction1), .float(correction2),
        ])
    }

    /// Per-group partial sums (`reduce_squares_partial`), then one ordered final sum
    /// (`reduce_sum_final`), so the result does not depend on scheduling; returns once queued.
    public func uncheckedSquaredNorm(result: BufferView, input: BufferView) throws {
        let threads = reductionThreads
        let groupLimit = deviceInfo.isGPU ? 4 * deviceInfo.computeUnits : deviceInfo.computeUnits
        let groups = max(1, min(groupLimit, (input.count + threads - 1) / threads))
        let partials = try scratch(groups)
        let defines = ["THREADS": "\(threads)"]
        try launch("reduce_squares_partial", program: .reduce, defines: defines, global: [groups * threads],
                   local: [threads], [.view(partials), .view(input), .int(input.count)])
        try launch("reduce_sum_final", program: .reduce, defines: defines, global: [threads], local: [threads],
                   [.view(result), .view(partials), .int(groups)])
    }
}
