// A conformance run's results as people and tools read them: an aligned table (one row per case,
// printed as each finishes), the summary line `N passed, N failed, N skipped`, and CSV.

/// The results of a conformance run, and their table, summary and CSV forms.
public struct ConformanceReport {
    /// Every result added so far, in the order added.
    public private(set) var results: [CaseResult] = []
    /// Column widths for backend and op names, fixed before the run so rows can stream.
    public let backendWidth: Int
    /// Width of the op column.
    public let opWidth: Int

    /// An empty report whose columns fit every name in `backendNames` and every case's op.
    public init(backendNames: [String], cases: [any ConformanceCase]) {
        backendWidth = max("backend".count, backendNames.map(\.count).max() ?? 0)
        opWidth = max("op".count, cases.map(\.op.count).max() ?? 0)
    }

    /// Appends one result (in the order cases finished).
    public mutating func add(_ result: CaseResult) { results.append(result) }

    /// Results with status PASS.
    public var passed: Int { results.filter { $0.status == .pass }.count }
    /// Results with status FAIL.
    public var failed: Int { results.filter { $0.status == .fail }.count }
    /// Results with status SKIP.
    public var skipped: Int { results.filter { $0.status == .skip }.count }

    /// `N passed, N failed, N skipped`, the run's last line.
    public var summary: String { "\(passed) passed, \(failed) failed, \(skipped) skipped" }

    // MARK: - Table

    private static let numberWidth = 10
    private static let toleranceWidth = 28

    /// Column titles. The shape (`op(parameters)`) comes last: its width varies from a few characters
    /// to a whole model's flags, and every other column stays aligned before it.
    public var header: String {
        row(backend: "backend", op: "op", maxAbs: "max abs err", relative: "rel err", tolerance: "tolerance",
            status: "result", shape: "shape")
    }

    /// One result as a table row; FAIL and SKIP add an indented line with the reason and seed.
    public func row(_ result: CaseResult) -> String {
        let numbers = result.metrics.map {
            (ReportFormat.scientific($0.maxAbsoluteError), ReportFormat.scientific($0.relativeError))
        } ?? ("-", "-")
        var text = row(backend: result.backend, op: result.op, maxAbs: numbers.0, relative: numbers.1,
                       tolerance: result.tolerance.description, status: result.status.rawValue,
                       shape: result.shape)
        if result.status != .pass {
            text += "\n" + String(repeating: " ", count: backendWidth + 2) + "\(result.detail) (seed \(result.seed))"
        }
        return text
    }

    private func row(backend: String, op: String, maxAbs: String, relative: String, tolerance: String,
                     status: String, shape: String) -> String {
        [ReportFormat.pad(backend, backendWidth), ReportFormat.pad(op, opWidth),
         ReportFormat.pad(maxAbs, Self.numberWidth, right: true), ReportFormat.pad(relative, Self.numberWidth, right: true),
         ReportFormat.pad(tolerance, Self.toleranceWidth), ReportFormat.pad(status, 6), shape].joined(separator: "  ")
    }

    // MARK: - CSV

    /// RFC 4180 CSV, one line per result with full-precision numbers.
    public var csv: String {
        var lines = ["backend,op,parameters,seed,status,tensor,max_abs_error,relative_error,nmse,"
                     + "tolerance_nmse,tolerance_relative,detail"]
        for result in results {
            let metrics = result.metrics
            let fields: [String] = [
                result.backend, result.op, result.parameters, String(result.seed), result.status.rawValue,
                result.tensor,
                metrics.map { String($0.maxAbsoluteError) } ?? "",
                metrics.map { String($0.relativeError) } ?? "",
                metrics.map { String($0.nmse) } ?? "",
                String(result.tolerance.maxNMSE), String(result.tolerance.maxRelative), result.detail,
            ]
            lines.append(fields.map(Self.csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Quotes a field holding a comma, quote or newline, doubling inner quotes.
    public static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        var quoted = "\""
        for character in text {
            quoted.append(character)
            if character == "\"" { quoted.append("\"") }
        }
        return quoted + "\""
    }
}
