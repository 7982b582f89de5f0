// AdamW against values worked out by hand (with Python's float64 as the calculator): weight decay,
// gradientScale, and bias correction at step 1 and step 3. The moments get a 2e-5 relative tolerance
// because the betas arrive as Float: 1 - Float(0.999) is 1.3e-5 away from 0.001, relatively.

import Compute
import ReferenceBackend
import Testing

@Suite("Reference AdamW")
struct OptimizerTests {
    /// Runs one adamW step on single-element buffers and returns (param, m, v).
    func adamStep(parameter: Float, gradient: Float, first: Float, second: Float, learningRate: Float,
                  beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, step: Int,
                  gradientScale: Float) throws -> (Float, Float, Float) {
        let backend = ReferenceBackend()
        let p = try backend.makeBuffer([parameter]), g = try backend.makeBuffer([gradient])
        let m = try backend.makeBuffer([first]), v = try backend.makeBuffer([second])
        try backend.adamW(parameters: p.all, gradients: g.all, firstMoment: m.all, secondMoment: v.all,
                          learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                          weightDecay: weightDecay, step: step, gradientScale: gradientScale)
        return (try backend.download(p.all)[0], try backend.download(m.all)[0], try backend.download(v.all)[0])
    }

    @Test("step 1 from zero moments, gradientScale 0.5, weight decay 0.01")
    func firstStep() throws {
        // g = 0.5 * 0.2 = 0.1; m = 0.1 g = 0.01; v = 0.001 g^2 = 1e-5; mhat = 0.1; vhat = 0.01;
        // p = 0.5 - 0.1 * (0.1 / (0.1 + 1e-8) + 0.01 * 0.5) = 0.39950001
        let (p, m, v) = try adamStep(parameter: 0.5, gradient: 0.2, first: 0, second: 0, learningRate: 0.1,
                                     beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, step: 1,
                                     gradientScale: 0.5)
        #expect(abs(p - 0.39950001) < 1e-7, "adamW step 1: parameter \(p), want 0.39950001")
        #expect(abs(m - 0.01) < 2e-5 * 0.01, "adamW step 1: first moment \(m), want 0.01")
        #expect(abs(v - 1e-5) < 2e-5 * 1e-5, "adamW step 1: second moment \(v), want 1e-5")
    }

    @Test("step 3 with existing moments: bias correction uses beta^3")
    func thirdStep() throws {
        // m = 0.9 * 0.02 + 0.1 * -0.3 = -0.012; v = 0.99 * 4e-4 + 0.01 * 0.09 = 0.001296;
        // mhat = -0.012 / 0.271; vhat = 0.001296 / 0.029701;
        // p = -1 - 0.01 * (mhat / (sqrt(vhat) + 1e-6) + 0.1 * -1) = -0.9968802096
        let (p, m, v) = try adamStep(parameter: -1, gradient: -0.3, first: 0.02, second: 0.0004, learningRate: 0.01,
                                     beta1: 0.9, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1, step: 3,
                                     gradientScale: 1)
        #expect(abs(p - -0.9968802096) < 1e-7, "adamW step 3: parameter \(p), want -0.9968802096")
        #expect(abs(m - -0.012) < 2e-5 * 0.012, "adamW step 3: first moment \(m), want -0.012")
        #expect(abs(v - 0.001296) < 2e-5 * 0.001296, "adamW step 3: second moment \(v), want 0.001296")
    }

    @Test("step 0 is refused")
    func stepZero() throws {
        let error = #expect(throws: BackendError.self) {
            _ = try adamStep(parameter: 1, gradient: 1, first: 0, second: 0, learningRate: 0.1, beta1: 0.9,
                             beta2: 0.999, epsilon: 1e-8, weightDecay: 0, step: 0, gradientScale: 1)
        }
        #expect(error?.description.hasPrefix("adamW:") == true, "got \(String(describing: error))")
    }
}
