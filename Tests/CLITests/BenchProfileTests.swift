// `gpt bench` and `gpt profile` run as subprocesses on a tiny config with the reference backend:
// the tables, the printed FLOP formula, the CSV and the Chrome trace they write, and their usage
// (exit 64) and runtime (exit 1) errors, each a single line.

import Foundation
import Testing

@Suite struct BenchProfileTests {
    /// A directory holding a tiny config: 2 layers, C=16, F=32, T=8, V=13 (reference backend: fast).
    static let directory: String = {
        let path = NSTemporaryDirectory() + "gpt-bench-tests-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try! """
            {"vocabSize": 13, "contextLength": 8, "layers": 2, "heads": 2, "embeddingDim": 16, "ffnDim": 32,
             "norm": "layer", "activation": "gelu", "positions": "learned", "tiedEmbeddings": true,
             "bias": true, "dropout": 0.1, "normEpsilon": 1e-5, "ropeTheta": 10000}
            """.write(toFile: path + "/tiny.json", atomically: true, encoding: .utf8)
        atexit { try? FileManager.default.removeItem(atPath: BenchProfileTests.directory) }
        return path
    }()
    static var tiny: String { directory + "/tiny.json" }

    /// P = L·(3C² + C² + F·C + C·F) + V·C for the tiny config.
    static let matmulParameters = 2 * (3 * 16 * 16 + 16 * 16 + 32 * 16 + 16 * 32) + 13 * 16
    /// 6·P + 6·L·T·C.
    static let flopsPerToken = 6 * matmulParameters + 6 * 2 * 8 * 16

    /// The space-separated cells after `label` on the first line that starts with it.
    func cells(after label: String, in text: String) -> [String] {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(label + " ") }) else { return [] }
        return line.dropFirst(label.count).split(separator: " ").map(String.init)
    }

    /// The number in the first cell after `label` (thousands separators removed).
    func value(after label: String, in text: String) -> Double? {
        cells(after: label, in: text).first.flatMap { Double($0.replacingOccurrences(of: ",", with: "")) }
    }

    @Test func benchPrintsEveryMatmulShapeTheFormulaAndTheRatio() throws {
        let run = try CLI.run(["bench", "--backend", "reference", "--config", Self.tiny, "--steps", "3",
                               "--warmup-steps", "1", "--batch-size", "2"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.isEmpty, "\(run.stderr)")
        #expect(run.stdout.contains("6*P + 6*L*T*C = 6*\(Self.matmulParameters) + 6*2*8*16 = \(Self.flopsPerToken) FLOPs per token"))
        #expect(run.stdout.contains("vocabulary 13"))
        // Five linear layers, each forward, dW and dinput; N = B*T = 16 rows.
        for role in ["qkv", "attn proj", "ffn up", "ffn down", "head"] {
            for pass in ["fwd", "dW", "dinput"] {
                #expect(run.stdout.contains("\n\(role) \(pass) "), "\(role) \(pass)")
            }
        }
        // m, n, k, transposes, calls per step.
        #expect(cells(after: "qkv fwd", in: run.stdout).prefix(5) == ["16", "48", "16", "NT", "2"], "\(run.stdout)")
        #expect(cells(after: "head dW", in: run.stdout).prefix(6) == ["13", "16", "16", "TN", "+=", "1"], "\(run.stdout)")
        #expect(cells(after: "ffn down dinput", in: run.stdout).prefix(4) == ["16", "32", "16", "NN"], "\(run.stdout)")

        let sgemm = try #require(value(after: "SGEMM GFLOP/s (a step's matmuls replayed)", in: run.stdout))
        let tokens = try #require(value(after: "training tok/s", in: run.stdout))
        let model = try #require(value(after: "model GFLOP/s (tok/s x FLOPs per token)", in: run.stdout))
        let ratio = try #require(value(after: "ratio model FLOP/s / SGEMM FLOP/s", in: run.stdout))
        #expect(sgemm > 0 && tokens > 0 && model > 0 && ratio > 0)
        // Columns: mean, then best; the fastest step is at least as fast as the mean step.
        let tokenCells = cells(after: "training tok/s", in: run.stdout).map { Double($0.replacingOccurrences(of: ",", with: ""))! }
        #expect(tokenCells.count == 2 && tokenCells[1] >= tokenCells[0], "\(tokenCells)")
        // The printed figures agree with each other (to their printed precision).
        #expect(abs(model - tokens * Double(Self.flopsPerToken) / 1e9) <= 0.02 * model + 0.0005, "\(run.stdout)")
        #expect(abs(ratio - model / sgemm) <= 0.05 * ratio + 0.002, "\(run.stdout)")
        let paired = try #require(value(after: "ratio, median over (step, replay) pairs", in: run.stdout))
        #expect(paired > 0)
        // One step time and one matmul replay per timed step.
        let timings = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("reference: final loss ") })
        let parts = timings.components(separatedBy: "; ")
        #expect(parts.count == 3 && parts[1].hasPrefix("step ms: ") && parts[2].hasPrefix("matmul replay ms: "), "\(timings)")
        #expect(parts[1].split(separator: " ").count == 2 + 3 && parts[2].split(separator: " ").count == 3 + 3, "\(timings)")
    }

    @Test func benchCompareAddsASecondColumnAndTheSpeedRatio() throws {
        let run = try CLI.run(["bench", "--backend", "reference", "--compare", "reference", "--config", Self.tiny,
                               "--steps", "2", "--warmup-steps", "0", "--batch-size", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        let header = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("matmul ") })
        let words = header.split(separator: " ").suffix(10).joined(separator: " ")
        #expect(words == "reference GFLOP/s mean best reference GFLOP/s mean best reference/reference (best)", "\(header)")
        let tokensLine = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("training tok/s") })
        #expect(tokensLine.split(separator: " ").last?.hasSuffix("x") == true, "\(tokensLine)")
        #expect(run.stdout.components(separatedBy: "backend: reference (").count == 3)
    }

    @Test func profilePrintsTheOpTableAndWritesCSVAndTrace() throws {
        let csv = Self.directory + "/profile-\(UUID().uuidString).csv"
        let trace = Self.directory + "/trace-\(UUID().uuidString).json"
        let steps = 2
        let run = try CLI.run(["profile", "--backend", "reference", "--config", Self.tiny, "--steps", "\(steps)",
                               "--batch-size", "2", "--csv", csv, "--trace", trace])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex { $0.hasPrefix("op ") })
        #expect(lines[header].contains("calls/step") && lines[header].contains("% of step")
                && lines[header].contains("mean µs") && lines[header].contains("GFLOP/s") && lines[header].contains("GB/s"))
        // Per step: 2 layers x 4 linears + the head, each forward, dW and dinput. Rows sorted by total time.
        let matmulCalls = (2 * 4 + 1) * 3
        let matmul = try #require(lines.first { $0.hasPrefix("matmul ") })
        #expect(matmul.split(separator: " ")[1] == "\(matmulCalls)", "\(matmul)")
        var totals: [Double] = []
        for line in lines[(header + 1)...] {
            if line.isEmpty || line.hasPrefix("(outside ops)") { break }
            let cells = line.split(separator: " ")
            totals.append(Double(cells[2])!)
        }
        #expect(totals.count >= 10 && totals == totals.sorted(by: >), "\(totals)")
        #expect(lines.contains { $0.hasPrefix("matmul ") && $0.contains("% (") && $0.contains(" vs the rest ") })

        let csvText = try String(contentsOfFile: csv, encoding: .utf8)
        let csvLines = csvText.split(separator: "\n")
        #expect(csvLines.first == "name,shape,calls,total_ms,percent_of_wall,mean_us,gflop_per_s,gb_per_s,flops,bytes")
        #expect(csvLines.contains { $0.hasPrefix("matmul,,\(steps * matmulCalls),") })

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: trace))) as? [String: Any]
        let events = try #require(json?["traceEvents"] as? [[String: Any]])
        let complete = events.filter { $0["ph"] as? String == "X" }
        #expect(complete.filter { $0["name"] as? String == "matmul" }.count == steps * matmulCalls)
        #expect(complete.filter { ($0["name"] as? String)?.hasPrefix("step ") == true }.count == steps)
        #expect(complete.allSatisfy { $0["ts"] != nil && $0["dur"] != nil && $0["pid"] != nil && $0["tid"] != nil })
    }

    @Test func profileByShapeListsEachMatmulShape() throws {
        let run = try CLI.run(["profile", "--backend", "reference", "--config", Self.tiny, "--steps", "1",
                               "--warmup-steps", "0", "--batch-size", "2", "--by", "shape"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("m=16 n=48 k=16"), "\(run.stdout)")
        #expect(run.stdout.contains("m=13 n=16 k=16"), "\(run.stdout)")
    }

    @Test(arguments: [
        (["bench", "--steps", "0"], "--steps must be at least 1, got 0"),
        (["bench", "--steps", "fast"], "--steps expects an integer, got 'fast'"),
        (["bench", "--batch-size", "-1"], "--batch-size must be at least 1, got -1"),
        (["bench", "--vocab", "0"], "--vocab must be at least 1, got 0"),
        (["profile", "--steps", "0"], "--steps must be at least 1, got 0"),
        (["profile", "--by", "kernel"], "--by expects op or shape, got 'kernel'"),
        (["profile", "--trace"], "missing value for --trace"),
        (["profile", "--bogus", "1"], "unknown flag '--bogus'"),
    ])
    func usageErrorsExitSixtyFour(arguments: [String], expected: String) throws {
        let run = try CLI.run(arguments + ["--config", Self.tiny, "--backend", "reference"])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr == "gpt \(arguments[0]): \(expected) (see gpt \(arguments[0]) --help)\n", "\(run.stderr)")
    }

    /// Issue 12, item 17: a name no backend has is a usage error (64), like any bad flag value.
    @Test(arguments: [
        ["bench", "--backend", "cuda"], ["bench", "--backend", "reference", "--compare", "cuda"], ["profile", "--backend", "cuda"],
    ])
    func unknownBackendsAreUsageErrors(arguments: [String]) throws {
        let run = try CLI.run(arguments + ["--config", Self.tiny])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderrLines.count == 1 && run.stderr.contains("expects one of auto, blas, opencl, reference, got 'cuda'"),
                "\(run.stderr)")
    }

    @Test(arguments: [
        (["profile", "--backend", "reference", "--config", "nope"], "unknown preset 'nope'"),
        (["bench", "--backend", "reference", "--config", "{missing}"], "no-such-file.json"),
        (["profile", "--backend", "reference", "--csv", "{missing}/out.csv"], "no-such-file.json/out.csv"),
    ])
    func runtimeErrorsExitOneWithOneLine(arguments: [String], expected: String) throws {
        var full = arguments.map { $0.replacingOccurrences(of: "{missing}", with: Self.directory + "/no-such-file.json") }
        if !full.contains("--config") { full += ["--config", Self.tiny] }
        let run = try CLI.run(full + ["--steps", "1", "--warmup-steps", "0", "--batch-size", "1"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderrLines.count == 1, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("gpt \(arguments[0]): ") && run.stderr.contains(expected), "\(run.stderr)")
    }

    @Test(arguments: ["bench", "profile"])
    func helpListsTheFlags(command: String) throws {
        let run = try CLI.run([command, "--help"])
        #expect(run.status == 0 && run.stderr.isEmpty)
        var flags = ["--backend NAME", "--config PRESET|FILE.json", "--steps N", "--batch-size B", "--warmup-steps N"]
        flags += command == "bench" ? ["--compare NAME"] : ["--csv FILE", "--trace FILE", "--by op|shape"]
        for flag in flags { #expect(run.stdout.contains(flag), "\(flag)") }
        let top = try CLI.run(["--help"])
        #expect(top.stdout.contains("  \(command) "))
    }
}
