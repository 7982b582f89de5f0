// OpCase: a conformance case for a single protocol op. The case only says how to build inputs and
// call the op (`execute`); running it on both backends, guard checks and comparison are shared here.

import Compute

/// A conformance case for one protocol op: it says how to build the inputs and make the call
/// (`execute`); running on both backends, the guard checks and the comparison are shared.
public protocol OpCase: ConformanceCase {
    /// True when the inputs deliberately hold NaN/Inf; otherwise a non-finite value in the oracle's
    /// output is itself a failure (it would make the comparison vacuous).
    var injectsNonFinite: Bool { get }
    /// Creates inputs and outputs through `harness` and calls the op on `harness.backend`.
    func execute(_ harness: OpHarness) throws
}

/// The oracle failed: reported as FAIL, never as SKIP, even when the error says "unsupported".
struct OracleFailure: Error, CustomStringConvertible {
    let error: any Error
    var description: String { "reference backend: \(error)" }
}

extension OpCase {
    /// Finite inputs unless a case says otherwise.
    public var injectsNonFinite: Bool { false }
    /// The op named by `op`; a case whose op needs a forward first lists both.
    public var requiredOps: [Op] { Op(rawValue: op).map { [$0] } ?? [] }

    /// Executes on the oracle, then on `backend` with the same seed, and judges every output, guard
    /// region and input. An oracle failure is FAIL; throws what `backend` throws.
    public func run(backend: any Backend, oracle: any Backend) throws -> CaseResult {
        let expected: (outputs: [NamedOutput], violations: [String])
        do {
            let harness = OpHarness(backend: oracle, seed: seed)
            try execute(harness)
            expected = try harness.observe()
        } catch {
            throw OracleFailure(error: error)
        }
        let harness = OpHarness(backend: backend, seed: seed)
        try execute(harness)
        let actual = try harness.observe()

        var problems = actual.violations + expected.violations.map { "reference backend " + $0 }
        if !injectsNonFinite {
            for output in expected.outputs where output.values.contains(where: { !$0.isFinite }) {
                problems.append("reference produced non-finite '\(output.name)' from finite inputs")
            }
        }
        return Conformance.judge(self, backend: backend.name, reference: expected.outputs,
                                 candidate: actual.outputs, problems: problems)
    }
}
