// `gpt profile`: where a training step's time goes on a backend. Attaches a Profiler for N training
// steps on random tokens (after untimed warm-up steps, so one-time allocation is not counted), then
// prints one row per op or kernel (calls, total ms, % of step, mean µs, achieved GFLOP/s and GB/s)
// sorted by total time, and a "matmul vs the rest" line. `--csv` writes the rows, `--trace` a Chrome
// trace JSON (one event per op, one per step) that opens in Perfetto.

import Compute
import FoundationEssentials
import GPT
import Tokenizers

let profileCommand = Command(
    name: "profile",
    summary: "time every op of N training steps; table per op, CSV and a Chrome/Perfetto trace",
    flags: [
        Flag(name: "backend", placeholder: "NAME", defaultValue: "auto", help: "compute backend (see gpt backends)"),
        Flag(name: "config", placeholder: "PRESET|FILE.json", defaultValue: "char-baby",
             help: "a preset (\(ModelConfig.presetNames.joined(separator: ", "))) or a JSON ModelConfig"),
        Flag(name: "steps", placeholder: "N", defaultValue: "3", help: "profiled training steps"),
        Flag(name: "warmup-steps", placeholder: "N", defaultValue: "1", help: "unprofiled training steps first"),
        Flag(name: "batch-size", placeholder: "B", defaultValue: "12", help: "sequences per step"),
        Flag(name: "vocab", placeholder: "V", defaultValue: nil,
             help: "vocabulary size (default: 65, tiny Shakespeare's, for char presets; else the config's)"),
        Flag(name: "by", placeholder: "op|shape", defaultValue: "op", help: "one row per op, or per op and shape"),
        Flag(name: "csv", placeholder: "FILE", defaultValue: nil, help: "also write the rows to FILE as CSV"),
        Flag(name: "trace", placeholder: "FILE", defaultValue: nil,
             help: "also write a Chrome trace JSON to FILE (open in ui.perfetto.dev)"),
        Flag(name: "seed", placeholder: "S", defaultValue: "1337", help: "seed for init and the random tokens"),
        Flag(name: "threads", placeholder: "N", defaultValue: nil, help: "CPU threads for CPU backends (default: all)"),
    ]
) { arguments in
    let steps = try arguments.int("steps", atLeast: 1)!
    let warmup = try arguments.int("warmup-steps", atLeast: 0)!
    let batch = try arguments.int("batch-size", atLeast: 1)!
    let vocab = try arguments.int("vocab", atLeast: 1)
    let seed = try arguments.seed("seed")!
    let threads = try arguments.int("threads", atLeast: 1)
    guard let grouping = ProfileReport.Grouping(rawValue: arguments.string("by")!) else {
        throw UsageError(command: "profile", message: "--by expects op or shape, got '\(arguments.string("by")!)'")
    }
    let config = try syntheticConfig(arguments.string("config")!, vocab: vocab)
    let backend = try backendRegistry.make(arguments.string("backend")!, options: BackendOptions(threads: threads))

    print("config: \(describe(config))")
    print("backend: \(backend.name) (\(backend.deviceDescription))")
    print("batch: \(batch) x \(config.contextLength) tokens (random); \(warmup) warm-up + \(steps) profiled steps")
    let workload = try SyntheticWorkload(config: config, backend: backend, batch: batch, seed: seed)
    for _ in 0..<warmup { _ = try workload.step() }

    let profiler = Profiler()
    var markers: [ProfileEvent] = []
    backend.profiler = profiler
    defer { backend.profiler = nil }
    for step in 1...steps {
        let start = profiler.now()
        _ = try workload.step()
        try backend.synchronize()
        markers.append(ProfileEvent(name: "step \(step)", shape: "B=\(batch) T=\(config.contextLength)",
                                    flops: 0, bytes: 0, start: start, seconds: profiler.now() - start))
    }
    backend.profiler = nil
    let wall = markers.reduce(0.0) { $0 + $1.seconds }
    let report = ProfileReport(events: profiler.events, wallSeconds: wall, steps: steps, grouping: grouping)

    print("")
    print(profileTable(report))
    print("")
    print(matmulSplitLine(report))
    let tokens = Double(steps * batch * config.contextLength)
    print("step: \(Format.fixed(wall / Double(steps) * 1e3, 1)) ms mean, \(Format.rate(tokens, wall)) tok/s "
          + "(with the profiler attached)")

    if let path = arguments.string("csv") {
        try FileIO.writeDurably(Data(report.csv.utf8), to: path)
        print("wrote \(path)")
    }
    if let path = arguments.string("trace") {
        let trace = report.chromeTrace(processName: "gpt profile \(backend.name) \(arguments.string("config")!)",
                                       markers: markers)
        try FileIO.writeDurably(Data(trace.utf8), to: path)
        print("wrote \(path) (\(report.events.count) events; open in ui.perfetto.dev)")
    }
}

/// The per-op table: calls per step, total ms over all profiled steps, share of the step, mean µs
/// per call, achieved GFLOP/s and GB/s (blank where the op records no FLOPs or bytes).
func profileTable(_ report: ProfileReport) -> String {
    let byShape = report.grouping == .shape
    var rows = [["op"] + (byShape ? ["shape"] : []) + ["calls/step", "total ms", "% of step", "mean µs", "GFLOP/s", "GB/s"]]
    for row in report.rows {
        let callsPerStep = Double(row.calls) / Double(report.steps)
        rows.append([row.name] + (byShape ? [row.shape] : []) + [
            callsPerStep == callsPerStep.rounded() ? String(Int(callsPerStep)) : Format.fixed(callsPerStep, 1),
            Format.fixed(row.seconds * 1e3, 1), Format.fixed(row.fractionOfWall * 100, 1),
            Format.fixed(row.meanSeconds * 1e6, 1),
            row.gigaflopsPerSecond.map(significant) ?? "",
            row.gigabytesPerSecond.map(significant) ?? "",
        ])
    }
    let outside = report.unaccountedSeconds
    rows.append(["(outside ops)"] + (byShape ? [""] : []) + ["", Format.fixed(outside * 1e3, 1),
                Format.fixed(report.wallSeconds > 0 ? outside / report.wallSeconds * 100 : 0, 1), "", "", ""])
    return renderTable(rows, leftColumns: byShape ? [0, 1] : [0])
}

/// "matmul X% vs the rest Y% (attention, other ops, outside ops)", per step.
func matmulSplitLine(_ report: ProfileReport) -> String {
    let wall = max(report.wallSeconds, 1e-12), steps = Double(report.steps)
    let matmul = report.seconds(where: ProfileReport.isMatmul)
    let attention = report.seconds(where: { $0.hasPrefix("attention") })
    let other = report.eventSeconds - matmul - attention
    func part(_ seconds: Double) -> String {
        "\(Format.fixed(seconds / wall * 100, 1))% (\(Format.fixed(seconds / steps * 1e3, 1)) ms/step)"
    }
    return "matmul \(part(matmul)) vs the rest \(part(wall - matmul)): attention \(part(attention)) "
        + "(its products run inside the fused op), other ops \(part(other)), outside ops \(part(report.unaccountedSeconds))"
}
