// The comparison metrics and tolerances on hand-computed inputs, and number formatting.

import Conformance
import Testing

@Suite("Error metrics")
struct ErrorMetricsTests {
    @Test("max abs, relative and NMSE match hand-computed values")
    func handComputed() {
        let metrics = ErrorMetrics.compare(reference: [1, -2, 4], candidate: [1, -2.5, 4.25])
        #expect(metrics.maxAbsoluteError == 0.5)
        #expect(metrics.relativeError == 0.125)  // 0.5 / max|ref| = 0.5 / 4
        #expect(abs(metrics.nmse - (0.25 + 0.0625) / 21) < 1e-15)
        #expect(metrics.worstIndex == 1)
        #expect(metrics.mismatch == nil)
    }

    @Test("matching NaN/Inf positions compare equal; mismatched ones fail first")
    func nonFinite() {
        let same = ErrorMetrics.compare(reference: [.nan, .infinity, 1], candidate: [.nan, .infinity, 1])
        #expect(same.mismatch == nil && same.maxAbsoluteError == 0)
        let swapped = ErrorMetrics.compare(reference: [.infinity, 1], candidate: [-.infinity, 1])
        #expect(swapped.mismatch != nil)
        let appeared = ErrorMetrics.compare(reference: [2, 1], candidate: [2, .nan])
        #expect(appeared.mismatch != nil && appeared.worstIndex == 1)
        #expect(!Tolerance(nmse: 1, relative: 1).accepts(appeared))
    }

    @Test("count mismatch and all-zero references")
    func edges() {
        #expect(ErrorMetrics.compare(reference: [1, 2], candidate: [1]).mismatch != nil)
        #expect(ErrorMetrics.compare(reference: [0, 0], candidate: [0, 0]).relativeError == 0)
        #expect(ErrorMetrics.compare(reference: [0, 0], candidate: [0, 1e-30]).relativeError == .infinity)
    }

    @Test("exact tolerance accepts only identical values")
    func exact() {
        #expect(Tolerance.exact.accepts(ErrorMetrics.compare(reference: [1, 2], candidate: [1, 2])))
        #expect(!Tolerance.exact.accepts(ErrorMetrics.compare(reference: [1, 2], candidate: [1, 2.0000002])))
        #expect(Tolerance.ulps.accepts(ErrorMetrics.compare(reference: [1, 2], candidate: [1, 2.0000002])))
    }

    @Test("scientific formatting", arguments: [
        (1.25e-7, "1.25e-07"), (0, "0"), (123456, "1.23e+05"), (9.999, "1.00e+01"), (-0.5, "-5.00e-01"),
    ])
    func scientific(_ value: Double, _ expected: String) {
        #expect(ReportFormat.scientific(value) == expected)
    }
}
