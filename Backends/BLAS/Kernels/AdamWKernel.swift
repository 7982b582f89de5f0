// One AdamW step over contiguous ranges of the four flat buffers, for any instruction set
// (VectorArithmetic.swift): a single pass that reads parameter, gradient and both moments once
// and writes the three updated ones, so it runs at memory speed.

/// The scalars of one AdamW step, bias corrections already folded in.
public struct AdamWStep {
    /// Step size, moment decays, denominator epsilon, decoupled weight decay.
    public var learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    /// Factor every gradient is multiplied by first (the contract's gradientScale: clipping, averaging).
    public var gradientScale: Float
    /// 1 / (1 - beta1^t) and 1 / (1 - beta2^t).
    public var firstCorrection: Float, secondCorrection: Float

    /// The step's scalars, as named by the properties.
    public init(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float,
                gradientScale: Float, firstCorrection: Float, secondCorrection: Float) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.gradientScale = gradientScale
        self.firstCorrection = firstCorrection
        self.secondCorrection = secondCorrection
    }
}

/// One fused AdamW pass over flat parameter, gradient and moment buffers, in any arithmetic.
public enum AdamWKernel {
    /// For i < count:
    ///   g = gradientScale grad;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
    ///   p -= lr (m c1 / (sqrt(v c2) + eps) + wd p)
    @inlinable @inline(__always)
    public static func update<A: VectorArithmetic>(_ arithmetic: A.Type, _ step: AdamWStep,
                                                   parameters: UnsafeMutablePointer<Float>,
                                                   gradients: UnsafePointer<Float>,
                                                   firstMoment: UnsafeMutablePointer<Float>,
                                                   secondMoment: UnsafeMutablePointer<Float>, count: Int) {
        let beta1 = Float8(repeating: step.beta1), beta2 = Float8(repeating: step.beta2)
        let oneMinusBeta1 = Float8(repeating: 1 - step.beta1), oneMinusBeta2 = Float8(repeating: 1 - step.beta2)
        let gradientScale = Float8(repeating: step.gradientScale), epsilon = Float8(repeating: step.epsilon)
        let c1 = Float8(repeating: step.firstCorrection), c2 = Float8(repeating: step.secondCorrection)
        let negativeRate = Float8(repeating: -step.learningRate), decay = Float8(repeating: step.weightDecay)
        @inline(__always) func update(_ p: Float8, _ grad: Float8, _ m: Float8, _ v: Float8)
            -> (p: Float8, m: Float8, v: Float8) {
            let g = grad * gradientScale
            let m2 = A.multiplyAdd(beta1, m, oneMinusBeta1 * g)
            let v2 = A.multiplyAdd(beta2, v, oneMinusBeta2 * (g * g))
            let direction = A.multiplyAdd(decay, p, (m2 * c1) / (Vector.squareRoot(v2 * c2) + epsilon))
            return (A.multiplyAdd(negativeRate, direction, p), m2, v2)
        }
        var i = 0
        while i + 8 <= count {
            let r = update(Vector.load(parameters + i), Vector.load(gradients + i),
                           Vector.load(firstMoment + i), Vector.load(secondMoment + i))
            Vector.store(r.p, parameters + i)
            Vector.store(r.m, firstMoment + i)
            Vector.store(r.v, secondMoment + i)
            i += 8
        }
        if i < count {
            let n = count - i
            let r = update(Vector.load(parameters + i, count: n), Vector.load(gradients + i, count: n),
                           Vector.load(firstMoment + i, count: n), Vector.load(secondMoment + i, count: n))
            Vector.store(r.p, parameters + i, count: n)
            Vector.store(r.m, firstMoment + i, count: n)
            Vector.store(r.v, secondMoment + i, count: n)
        }
    }
}
