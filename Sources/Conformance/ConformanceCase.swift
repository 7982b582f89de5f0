// A conformance case and its result: one op (or the whole model) at one shape, run on a backend and on
// the oracle (the reference backend) with identical inputs, compared with a stated tolerance.
// Modelled on ggml's test-backend-ops: a case is a small value type with its parameters, a seed, a
// tolerance and a `run`; `Catalogue.swift` lists them. `evaluate` turns every outcome (including a
// thrown error or an unsupported op) into one `CaseResult` line.

import Compute

/// A conformance case: a small value with its parameters, seed and tolerance that runs on a backend
/// and on the oracle and compares them. Build new op cases on `OpCase`, which shares the running.
public protocol ConformanceCase: Sendable, CustomStringConvertible {
    /// The op family name used in result lines and by `--op` (an `Op` raw value, or "model").
    var op: String { get }
    /// Parameters as `key=value` pairs joined by commas, e.g. `m=17,n=65,k=3,tA=1,tB=0`.
    var parameters: String { get }
    /// Seeds every input, so a failure reproduces from its result line.
    var seed: UInt64 { get }
    /// Protocol ops the case calls; any that `supports(_:)` rejects makes the case SKIP.
    var requiredOps: [Op] { get }
    /// The default bound for this case's outputs (individual outputs may state their own).
    var tolerance: Tolerance { get }
    /// Runs on `backend` and on `oracle` and compares. Throws what the backend throws.
    func run(backend: any Backend, oracle: any Backend) throws -> CaseResult
}

extension ConformanceCase {
    /// `op(parameters)`, the case's name in every report.
    public var description: String { "\(op)(\(parameters))" }

    /// A stable seed derived from the case's name (FNV-1a), so seeds never need to be numbered by hand.
    public static func seed(for name: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }
}

/// A case's verdict, as the report prints it.
public enum CaseStatus: String, Sendable {
    /// PASS: within tolerance; FAIL: outside it or threw; SKIP: an op the backend does not support.
    case pass = "PASS", fail = "FAIL", skip = "SKIP"
}

/// One line of a conformance report.
public struct CaseResult: Sendable {
    /// The backend's `name`.
    public var backend: String
    /// The case's `op`.
    public var op: String
    /// The case's `parameters`.
    public var parameters: String
    /// The case's seed: rerunning the case with it reproduces the inputs.
    public var seed: UInt64
    /// PASS, FAIL or SKIP.
    public var status: CaseStatus
    /// Metrics of the worst output (the first failing one, else the largest relative error).
    public var metrics: ErrorMetrics?
    /// Which output `metrics` describe (e.g. "dinput", "grad transformer.h.0.ln_1.weight").
    public var tensor: String
    /// The bound `metrics` were judged against.
    public var tolerance: Tolerance
    /// Why it failed or was skipped (empty on PASS).
    public var detail: String

    /// A result for `testCase` on `backend`; `metrics` nil when nothing was compared.
    public init(backend: String, testCase: any ConformanceCase, status: CaseStatus, metrics: ErrorMetrics?,
                tensor: String, tolerance: Tolerance, detail: String) {
        self.backend = backend
        op = testCase.op
        parameters = testCase.parameters
        seed = testCase.seed
        self.status = status
        self.metrics = metrics
        self.tensor = tensor
        self.tolerance = tolerance
        self.detail = detail
    }

    /// `op(parameters)`.
    public var shape: String { "\(op)(\(parameters))" }

    /// One self-contained line: everything needed to reproduce and judge the result.
    public var line: String {
        var text = "\(backend) \(shape) seed=\(seed)"
        if let metrics {
            text += " [\(tensor)] maxabs=\(ReportFormat.scientific(metrics.maxAbsoluteError))"
            text += " rel=\(ReportFormat.scientific(metrics.relativeError)) nmse=\(ReportFormat.scientific(metrics.nmse))"
        }
        text += " tol=\(tolerance) \(status.rawValue)"
        if !detail.isEmpty { text += ": \(detail)" }
        return text
    }
}

/// Running cases: `evaluate` turns any outcome into one `CaseResult`.
public enum Conformance {
    /// Runs `testCase` on `backend` against `oracle` and never throws: an op that `supports(_:)`
    /// rejects, or that throws `BackendError.unsupported`, is SKIP with the reason; any other error
    /// is FAIL with its message.
    public static func evaluate(_ testCase: any ConformanceCase, backend: any Backend,
                                oracle: any Backend) -> CaseResult {
        for op in testCase.requiredOps {
            if case let .unsupported(reason) = backend.supports(op) {
                return CaseResult(backend: backend.name, testCase: testCase, status: .skip, metrics: nil,
                                  tensor: "", tolerance: testCase.tolerance, detail: "\(op.rawValue): \(reason)")
            }
        }
        do {
            return try testCase.run(backend: backend, oracle: oracle)
        } catch let error as BackendError {
            if case let .unsupported(op, _, reason) = error {
                return CaseResult(backend: backend.name, testCase: testCase, status: .skip, metrics: nil,
                                  tensor: "", tolerance: testCase.tolerance, detail: "\(op): \(reason)")
            }
            return failure(testCase, backend: backend, error: error)
        } catch {
            return failure(testCase, backend: backend, error: error)
        }
    }

    private static func failure(_ testCase: any ConformanceCase, backend: any Backend, error: any Error) -> CaseResult {
        CaseResult(backend: backend.name, testCase: testCase, status: .fail, metrics: nil, tensor: "",
                   tolerance: testCase.tolerance, detail: "threw: \(error)")
    }

    /// Compares named outputs in order and builds the result: FAIL on the first output outside its
    /// tolerance (or on any listed `problems`), otherwise PASS reporting the largest relative error.
    static func judge(_ testCase: any ConformanceCase, backend: String,
                      reference: [NamedOutput], candidate: [NamedOutput], problems: [String]) -> CaseResult {
        var worst: (name: String, metrics: ErrorMetrics, tolerance: Tolerance)?
        var failed: (name: String, metrics: ErrorMetrics, tolerance: Tolerance)?
        var failedNames: [String] = []
        var missing: [String] = []
        for expected in reference {
            guard let actual = candidate.first(where: { $0.name == expected.name }) else {
                missing.append(expected.name)
                continue
            }
            let tolerance = expected.tolerance ?? testCase.tolerance
            let metrics = ErrorMetrics.compare(reference: expected.values, candidate: actual.values)
            if !tolerance.accepts(metrics) {
                failedNames.append(expected.name)
                if failed == nil { failed = (expected.name, metrics, tolerance) }
            }
            if worst == nil || metrics.relativeError > worst!.metrics.relativeError {
                worst = (expected.name, metrics, tolerance)
            }
        }
        var details = problems
        if !missing.isEmpty { details.append("backend produced no \(missing.joined(separator: ", "))") }
        let reported = failed ?? worst
        if let failed {
            let where_ = failed.metrics.mismatch ?? "worst element \(failed.metrics.worstIndex)"
            let others = failedNames.count > 1 ? " (also " + failedNames.dropFirst().joined(separator: ", ") + ")" : ""
            details.insert("\(failed.name) outside tolerance (\(where_))\(others)", at: 0)
        }
        return CaseResult(backend: backend, testCase: testCase,
                          status: details.isEmpty ? .pass : .fail, metrics: reported?.metrics,
                          tensor: reported?.name ?? "", tolerance: reported?.tolerance ?? testCase.tolerance,
                          detail: details.joined(separator: "; "))
    }
}

/// One output tensor of a run, downloaded to the host.
public struct NamedOutput: Sendable {
    /// The output's name in result lines (e.g. "out", "dweight").
    public var name: String
    /// Its elements as downloaded.
    public var values: [Float]
    /// Overrides the case's tolerance for this output (nil: the case's).
    public var tolerance: Tolerance?

    /// An output to compare; `tolerance` nil uses the case's.
    public init(name: String, values: [Float], tolerance: Tolerance? = nil) {
        self.name = name
        self.values = values
        self.tolerance = tolerance
    }
}
