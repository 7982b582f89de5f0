// The harness catches each kind of bug it claims to: a faithful wrapper around the reference passes,
// and each deliberately faulty behaviour fails (or skips) with a message naming the problem.

import Compute
import Conformance
import ReferenceBackend
import Testing

@Suite("Conformance harness")
struct HarnessTests {
    /// (fault, a case that exercises it, words the result detail must contain).
    static let faults: [(FaultyBackend.Fault, any ConformanceCase, String)] = [
        (.writesPastEnd, ElementwiseCase(.scale, rows: 3, cols: 17, alpha: 2), "past the end"),
        (.writesBeforeStart, ElementwiseCase(.add, rows: 3, cols: 17), "before the start"),
        (.perturbsOneElement, MatmulCase(m: 65, n: 65, k: 17), "outside tolerance"),
        (.accumulatesInsteadOfOverwriting, ActivationCase(.geluForward, rows: 3, cols: 17), "outside tolerance"),
        (.wrongDropoutMask, ActivationCase(.dropoutForward, rows: 17, cols: 17, probability: 0.5, dropoutSeed: 3),
         "out.zeros"),
        (.modifiesInput, ActivationCase(.reluForward, rows: 3, cols: 17), "modified input 'input'"),
        (.swallowsNaN, SoftmaxCase(.forward, rows: 7, cols: 65, nonFinite: true), "backend 0.0"),
    ]

    @Test("each injected fault fails with a message naming it",
          arguments: HarnessTests.faults.indices)
    func faultIsCaught(_ index: Int) {
        let (fault, testCase, expected) = Self.faults[index]
        let result = Conformance.evaluate(testCase, backend: FaultyBackend(fault), oracle: ReferenceBackend())
        #expect(result.status == .fail, "\(fault): \(result.line)")
        #expect(result.detail.contains(expected), "\(fault): \(result.line)")
        #expect(result.line.contains("faulty-\(fault.rawValue) \(testCase.description) seed=\(testCase.seed)"))
    }

    @Test("the same cases pass on a faithful wrapper", arguments: HarnessTests.faults.indices)
    func faithfulWrapperPasses(_ index: Int) {
        let testCase = Self.faults[index].1
        let result = Conformance.evaluate(testCase, backend: FaultyBackend(.none), oracle: ReferenceBackend())
        #expect(result.status == .pass, "\(result.line)")
    }

    @Test("an op the backend does not support is SKIP with the reason")
    func unsupportedIsSkipped() {
        let result = Conformance.evaluate(AttentionCase(backward: true, batch: 1, sequenceLength: 3, heads: 1, headDim: 4),
                                          backend: FaultyBackend(.unsupportedAttention), oracle: ReferenceBackend())
        #expect(result.status == .skip)
        #expect(result.detail.contains("test fault"))
    }

    @Test("a whole-model case compares every gradient by name")
    func modelCaseNamesGradients() throws {
        let testCase = try #require(Catalogue.standard.first { $0.op == "model" } as? ModelCase)
        let result = Conformance.evaluate(testCase, backend: FaultyBackend(.perturbsOneElement), oracle: ReferenceBackend())
        #expect(result.status == .fail, "\(result.line)")
        #expect(result.detail.contains("outside tolerance"), "\(result.line)")
    }
}
