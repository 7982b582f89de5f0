// `gpt conformance`: runs the conformance catalogue (every op forward and backward, guard regions,
// NaN/Inf propagation, whole-model variants) on one or more backends against the reference backend,
// the oracle. Prints a table row per case as it finishes, then `N passed, N failed, N skipped`;
// `--csv FILE` also writes every result. Any FAIL makes the exit status 1.

import Compute
import Conformance
import FoundationEssentials
import GPT
import ReferenceBackend
import Tokenizers

let conformanceCommand = Command(
    name: "conformance",
    summary: "check every op and the whole model on backends against the reference backend",
    flags: [
        Flag(name: "backend", placeholder: "NAME[,NAME...]", defaultValue: "all",
             help: "backends to check, comma-separated; all: every available one but the reference (the oracle)"),
        Flag(name: "op", placeholder: "NAME", defaultValue: nil,
             help: "only cases whose op starts with NAME (e.g. matmul, attention, layerNorm, model)"),
        Flag(name: "csv", placeholder: "FILE", defaultValue: nil, help: "also write every result to FILE as CSV"),
        Flag(name: "cases", placeholder: "SET", defaultValue: "standard",
             help: "standard (what swift test runs) or extended (adds model-sized shapes; slow on reference)"),
        Flag(name: "threads", placeholder: "N", defaultValue: nil, help: "CPU threads for CPU backends (default: all)"),
    ]
) { arguments in
    try runConformance(registry: backendRegistry, arguments: arguments)
}

/// The body of `gpt conformance`, given the backend registry. Throws a UsageError for bad flags, a
/// RuntimeError naming the count when any case fails.
func runConformance(registry: BackendRegistry, arguments: ParsedArguments) throws {
    let threads = try arguments.int("threads", atLeast: 1)
    let options = BackendOptions(threads: threads)
    let catalogue: [any ConformanceCase]
    switch arguments.string("cases")! {
    case "standard": catalogue = Catalogue.standard
    case "extended": catalogue = Catalogue.extended
    case let other:
        throw UsageError(command: "conformance", message: "--cases expects standard or extended, got '\(other)'")
    }
    let cases = Catalogue.filter(catalogue, op: arguments.string("op"))
    if cases.isEmpty {
        throw UsageError(command: "conformance", message: "no case matches --op '\(arguments.string("op") ?? "")'; "
                         + "ops: \(Catalogue.opNames.joined(separator: ", "))")
    }
    let names = try conformanceBackendNames(arguments.string("backend")!, registry: registry)
    let backends = try names.map { try registry.make($0, options: options) }
    let oracle = ReferenceBackend(threads: threads)

    print("oracle: \(oracle.name) (\(oracle.deviceDescription))")
    for backend in backends { print("backend: \(backend.name) (\(backend.deviceDescription))") }
    print("cases: \(cases.count) per backend (\(arguments.string("cases")!))")
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

    if let path = arguments.string("csv") {
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
    return try names.map { try registry.resolve($0).name }
}
