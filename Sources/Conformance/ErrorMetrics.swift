// Error metrics and tolerances: how one output of a backend is compared with the oracle's.
//
// Order of checks (ggml's test-backend-ops does the same): first the non-finite positions (NaN, +Inf,
// -Inf must sit at the same indices, with the same class, as in the reference); then, over the finite
// elements, three numbers:
//   max abs error   max_i |a_i - b_i|
//   relative error  max_i |a_i - b_i| / max_i |a_i|       (a = reference, b = backend)
//   NMSE            sum_i (a_i - b_i)^2 / sum_i a_i^2     (= mse(a, b) / mse(a, 0))
// A tolerance bounds both NMSE and the relative error. NMSE alone is not enough: one wrong element in
// 65,000 moves NMSE by only ~1e-5, which a loose bound would accept; the max-based relative error
// catches it. Dividing by max|a| rather than |a_i| keeps elements that cancel to nearly zero (a dot
// product of random vectors) from producing huge "relative" errors that mean nothing.

/// The result of comparing one backend output with the reference output.
public struct ErrorMetrics: Sendable, Equatable {
    /// max |Δ| over the finite elements.
    public var maxAbsoluteError: Double
    /// max |Δ| / max |reference| (0 when both are all zero; +inf when only the reference is).
    public var relativeError: Double
    /// mse(reference, backend) / mse(reference, 0).
    public var nmse: Double
    /// Element index with the largest |Δ| (or the first non-finite mismatch).
    public var worstIndex: Int
    /// Why the outputs cannot be compared numerically (count or NaN/Inf position mismatch), if so.
    public var mismatch: String?

    /// Compares `candidate` (the backend) with `reference` (the oracle).
    public static func compare(reference: [Float], candidate: [Float]) -> ErrorMetrics {
        guard reference.count == candidate.count else {
            return ErrorMetrics(maxAbsoluteError: .infinity, relativeError: .infinity, nmse: .infinity,
                                worstIndex: 0,
                                mismatch: "reference has \(reference.count) elements, backend \(candidate.count)")
        }
        var maxAbs = 0.0, maxReference = 0.0, squaredError = 0.0, squaredReference = 0.0
        var worst = 0
        for i in reference.indices {
            let a = reference[i], b = candidate[i]
            if !a.isFinite || !b.isFinite {
                if nonFiniteClass(a) != nonFiniteClass(b) {
                    return ErrorMetrics(maxAbsoluteError: .infinity, relativeError: .infinity, nmse: .infinity,
                                        worstIndex: i,
                                        mismatch: "element \(i): reference \(a), backend \(b)")
                }
                continue
            }
            let difference = abs(Double(a) - Double(b))
            if difference > maxAbs { maxAbs = difference; worst = i }
            maxReference = max(maxReference, abs(Double(a)))
            squaredError += difference * difference
            squaredReference += Double(a) * Double(a)
        }
        let relative = maxReference > 0 ? maxAbs / maxReference : (maxAbs > 0 ? .infinity : 0)
        let nmse = squaredReference > 0 ? squaredError / squaredReference : (squaredError > 0 ? .infinity : 0)
        return ErrorMetrics(maxAbsoluteError: maxAbs, relativeError: relative, nmse: nmse,
                            worstIndex: worst, mismatch: nil)
    }

    /// 0 finite, 1 NaN, 2 +Inf, 3 -Inf.
    private static func nonFiniteClass(_ x: Float) -> Int {
        if x.isNaN { return 1 }
        if x.isInfinite { return x > 0 ? 2 : 3 }
        return 0
    }
}

/// Bounds on NMSE and relative error for one output. Chosen per case next to the case, with the
/// reason (float32 rounding grows with the reduction length, transcendental functions differ by ulps).
public struct Tolerance: Sendable, Equatable, CustomStringConvertible {
    /// Largest NMSE accepted.
    public var maxNMSE: Double
    /// Largest relative error (max |Δ| / max |reference|) accepted.
    public var maxRelative: Double

    /// A bound of `nmse` on NMSE and `relative` on the relative error.
    public init(nmse: Double, relative: Double) {
        maxNMSE = nmse
        maxRelative = relative
    }

    /// Bit-for-bit equal finite values (data movement, masks, max(x, 0)).
    public static let exact = Tolerance(nmse: 0, relative: 0)

    /// One or two float32 roundings apart (e.g. fused multiply-add versus multiply then add).
    public static let ulps = Tolerance(nmse: 1e-13, relative: 1e-6)

    /// Whether it demands bit-equal finite values.
    public var isExact: Bool { maxNMSE == 0 && maxRelative == 0 }

    /// Whether `metrics` are comparable at all (no count or NaN/Inf mismatch) and within both bounds.
    public func accepts(_ metrics: ErrorMetrics) -> Bool {
        metrics.mismatch == nil && metrics.nmse <= maxNMSE && metrics.relativeError <= maxRelative
    }

    /// "exact", or both bounds, as result lines print them.
    public var description: String {
        isExact ? "exact" : "nmse<=\(ReportFormat.scientific(maxNMSE)) rel<=\(ReportFormat.scientific(maxRelative))"
    }
}
