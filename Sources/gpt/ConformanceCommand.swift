// `gpt conformance`: runs the conformance catalogue (every op forward and backward, guard regions,
// NaN/Inf propagation, whole-model variants) on one or more backends against the reference backend,
// the oracle. Prints a table row per case as it finishes, then `N passed, N failed, N skipped`;
// `--csv FILE` also writes every result; `--device` picks the OpenCL device. Any FAIL makes the exit
// status 1.

import Compute
import Conformance
import FoundationEssentials
import GPT
import ReferenceBackend
import Tokenizers

/// `--cases`: which catalogue.
enum CaseSet: String, CaseIterable, Sendable {
    /// What swift test runs.
    case standard
    /// Adds model-sized shapes (slow on the reference backend).
    case extended

    var catalogue: [any ConformanceCase] { self == .standard ? Catalogue.standard : Catalogue.extended }
}

struct ConformanceOptions: OptionGroup {
    /// A list, unlike the other commands' --backend; --device and --threads are theirs.
    let backends = BackendSelection(backend: Option(
        "backend", .text("NAME[,NAME...]"), default: "all",
        help: "backends to check, comma-separated; all: every available one but the reference (the oracle)"))
    let op = Option("op", .text("NAME"), help: "only cases whose op starts with NAME (e.g. matmul, attention, layerNorm, model)")
    let csv = Option("csv", .path("FILE"), help: "also write every result to FILE as CSV")
    let cases = Option("cases", Choice.cases(of: CaseSet.self), default: .standard,
                       help: "standard (what swift test runs) or extended (adds model-sized shapes; slow on reference)")
    let memoryLimit = CommonOptions.memoryLimit()

    var all: [any AnyOption] { backends.all + [op, csv, cases, memoryLimit] }
}

let conformanceCommand = Command("conformance",
                                 summary: "check every op and the whole model on backends against the reference backend",
                                 options: ConformanceOptions.self) { options in
    try runConformance(options, registry: backendRegistry)
}

/// The body of `gpt conformance`, given the backend registry. Throws a UsageError for bad flags, a
/// RuntimeError naming the count when any case fails.
func runConformance(_ options: ConformanceOptions, registry: BackendRegistry) throws {
    let cases = Catalogue.filter(options.cases.value.catalogue, op: options.op.given)
    if cases.isEmpty {
        throw UsageError(command: "conformance", message: "no case matches --op '\(options.op.given ?? "")'; "
                         + "ops: \(Catalogue.opNames.joined(separator: ", "))")
    }
    if let path = options.csv.given { try checkOutputPath(path, flag: "--csv") }  // before the work, not after it
    let names = try conformanceBackendNames(options.backends.backend.value, registry: registry)
    let backends = try names.map { try registry.make($0, options: options.backends.backendOptions) }
    let oracle = ReferenceBackend(threads: options.backends.threads.given)
    let estimate = try Catalogue.memoryEstimate(of: cases)
    for backend in backends + [oracle] {
        try checkMemory(estimate, backend: backend, limit: options.memoryLimit.given, work: "running the conformance cases",
                        hint: "run fewer with --op or --cases standard")
    }

    print("oracle: \(oracle.name) (\(oracle.deviceDescription))")
    for backend in backends { print("backend: \(backend.name) (\(backend.deviceDescription))") }
    print("cases: \(cases.count) per backend (\(options.cases.value.rawValue))")
    var report = ConformanceReport(backendNames: backends.map(\.name), cases: cases)
    print(report.header)
    let start = ContinuousClock.now
    for backend in backends {
        for testCase in cases {
            let result = Conformance.evaluate(testCase, backend: backend, oracle: oracle)
            report.add(result)
            print(report.row(result))
        }
    }
    print("\(report.summary) (\(Format.duration(seconds(since: start))))")

    if let path = options.csv.given {
        try FileIO.writeDurably(Data(report.csv.utf8), to: path)
        print("wrote \(path)")
    }
    if report.failed > 0 {
        throw RuntimeError("\(report.failed) of \(report.results.count) conformance cases failed")
    }
}

/// Resolves `--backend`: a comma-separated list of names, or `all` for every available backend except
/// the oracle (the reference alone when nothing else is available). Names are checked by the
/// registry, which lists what is available when one is unknown or cannot run here.
func conformanceBackendNames(_ value: String, registry: BackendRegistry) throws -> [String] {
    if value == "all" {
        let available = registry.availableNames
        let others = available.filter { $0 != "reference" }
        return others.isEmpty ? available : others
    }
    let names = value.split(separator: ",", omittingEmptySubsequences: false).map { String($0.filter { !$0.isWhitespace }) }
    guard !names.isEmpty, !names.contains(where: { $0.isEmpty }) else {
        throw UsageError(command: "conformance", message: "--backend expects NAME[,NAME...], got '\(value)'")
    }
    return try names.map { name in
        guard registry.plugins.contains(where: { $0.name == name }) || name == "auto" else {
            throw UsageError(command: "conformance", message: "--backend: unknown backend '\(name)'; known: "
                             + (["auto"] + registry.plugins.map(\.name).sorted()).joined(separator: ", "))
        }
        return try registry.resolve(name).name
    }
}
