// The optimizer contract: one AdamW step over matching flat views, and the squared global norm the
// trainer clips gradients with.
// Profile record: "n=COUNT"; FLOPs 16 per parameter (AdamW), 2 per element (squared norm); bytes:
// AdamW reads parameters, gradients and both moments and writes three of them (28 per element),
// the norm reads its input once (4 per element, plus the result).

/// The optimizer family's requirements: the AdamW step and the squared norm for gradient clipping.
/// A backend implements these; callers use the checked entry points below.
public protocol BackendOptimizer: AnyObject {
    /// `adamW(parameters:gradients:firstMoment:secondMoment:...)` after its checks.
    func uncheckedAdamW(parameters: BufferView, gradients: BufferView, firstMoment: BufferView,
                        secondMoment: BufferView, learningRate: Float, beta1: Float, beta2: Float,
                        epsilon: Float, weightDecay: Float, step: Int, gradientScale: Float) throws
    /// `squaredNorm(result:input:)` after its checks.
    func uncheckedSquaredNorm(result: BufferView, input: BufferView) throws
}

extension Backend {
    /// One AdamW step over matching views (updated in place), step t >= 1:
    ///   g = gradientScale * grad;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
    ///   mhat = m / (1 - b1^t);  vhat = v / (1 - b2^t)
    ///   param -= lr * (mhat / (sqrt(vhat) + eps) + weightDecay * param)
    /// The four views have equal counts and share no element.
    public func adamW(parameters: BufferView, gradients: BufferView, firstMoment: BufferView,
                      secondMoment: BufferView, learningRate: Float, beta1: Float, beta2: Float,
                      epsilon: Float, weightDecay: Float, step: Int, gradientScale: Float) throws {
        let check = try OpCheck(.adamW, on: self)
        try check.require(step >= 1, "step must be at least 1, got \(step)")
        try check.floats(["parameters": parameters, "gradients": gradients, "firstMoment": firstMoment,
                          "secondMoment": secondMoment])
        for (what, view) in [("gradients", gradients), ("firstMoment", firstMoment), ("secondMoment", secondMoment)] {
            try check.count(what, view, parameters.count)
        }
        try check.separate([("parameters", parameters), ("gradients", gradients), ("firstMoment", firstMoment),
                            ("secondMoment", secondMoment)])
        let n = Double(parameters.count)
        try check.run(check.record("n=\(parameters.count)", flops: 16 * n, bytes: 28 * n)) {
            try uncheckedAdamW(parameters: parameters, gradients: gradients, firstMoment: firstMoment,
                               secondMoment: secondMoment, learningRate: learningRate, beta1: beta1, beta2: beta2,
                               epsilon: epsilon, weightDecay: weightDecay, step: step, gradientScale: gradientScale)
        }
    }

    /// result[0] = sum of x[i]^2 over the view. OVERWRITES the one-element `result`.
    public func squaredNorm(result: BufferView, input: BufferView) throws {
        let check = try OpCheck(.squaredNorm, on: self)
        try check.floats(["result": result, "input": input])
        try check.count("result", result, 1)
        try check.separate(("result", result), from: [("input", input)])
        let n = Double(input.count)
        try check.run(check.record("n=\(input.count)", flops: 2 * n, bytes: 4 * (n + 1))) {
            try uncheckedSquaredNorm(result: result, input: input)
        }
    }
}

extension ForwardingBackend {
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedAdamW(parameters: BufferView, gradients: BufferView, firstMoment: BufferView,
                               secondMoment: BufferView, learningRate: Float, beta1: Float, beta2: Float,
                               epsilon: Float, weightDecay: Float, step: Int, gradientScale: Float) throws {
        try forwardee.uncheckedAdamW(parameters: parameters, gradients: gradients, firstMoment: firstMoment,
                                     secondMoment: secondMoment, learningRate: learningRate, beta1: beta1,
                                     beta2: beta2, epsilon: epsilon, weightDecay: weightDecay, step: step,
                                     gradientScale: gradientScale)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedSquaredNorm(result: BufferView, input: BufferView) throws {
        try forwardee.uncheckedSquaredNorm(result: result, input: input)
    }
}
