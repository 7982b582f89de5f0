// `gpt profile`: where a training step's time goes on a backend. Attaches a Profiler for N training
// steps on random tokens (after untimed warm-up steps, so one-time allocation is not counted), then
// prints one row per op (calls, total ms, % of step, mean µs, achieved GFLOP/s and GB/s) sorted by
// total time, one row per kernel where the backend launches kernels (OpenCL: device time), and a
// "matmul vs the rest" line. `--csv` writes the rows, `--trace` a Chrome
// trace JSON (one event per op, one per step) that opens in Perfetto. Started by mpirun, it profiles
// a data-parallel step (rank 0's ops) and adds how long the gradient collectives were in flight,
// how long the step waited for them, and so how much of the communication was hidden.

import Compute
import FoundationEssentials
import GPT
import Tokenizers

struct ProfileOptions: OptionGroup {
    let workload = WorkloadOptions(steps: 3, stepsHelp: "profiled training steps", warmupSteps: 1,
                                   warmupHelp: "unprofiled training steps first")
    let grouping = Option("by", Choice.cases(of: ProfileReport.Grouping.self), default: .op,
                          help: "one row per op, or per op and shape")
    let csv = Option("csv", .path("FILE"), help: "also write the rows to FILE as CSV")
    let trace = Option("trace", .path("FILE"), help: "also write a Chrome trace JSON to FILE (open in ui.perfetto.dev)")
    let distributed = DistributedOptions()

    var all: [any AnyOption] { workload.all + [grouping, csv, trace] + distributed.all }
}

let profileCommand = Command("profile",
                             summary: "time every op of N training steps; table per op, CSV and a Chrome/Perfetto trace",
                             options: ProfileOptions.self) { options in
    let workload = options.workload
    let (steps, warmup, batch) = (workload.steps.value, workload.warmupSteps.value, workload.batchSize.value)
    let config = try workload.modelConfig()
    for (flag, path) in [("--csv", options.csv.given), ("--trace", options.trace.given)] {
        if let path { try checkOutputPath(path, flag: flag) }  // before the work, not after it
    }
    let parallelism = try options.distributed.parallelism()
    var backendOptions = workload.backend.backendOptions
    if parallelism.size > 1 { backendOptions.deviceOrdinal = parallelism.communicator.localRank }
    let backend = try backendRegistry.make(workload.backend.backend.value, options: backendOptions)

    print("config: \(describe(config))")
    print("backend: \(backend.name) (\(backend.deviceDescription))")
    print("batch: \(batch) x \(config.contextLength) tokens (random); \(warmup) warm-up + \(steps) profiled steps")
    if parallelism.size > 1 { print("distributed: \(parallelism.communicator.summary); rank 0's ops below") }
    try parallelism.check(batch: batch)
    try checkMemory(try SyntheticWorkload.memoryEstimate(config: config, batch: batch, parallelism: parallelism),
                    backend: backend, limit: workload.memoryLimit.given, work: "the profiled run",
                    hint: "use a smaller --batch-size or --config")
    let synthetic = try SyntheticWorkload(config: config, backend: backend, batch: batch, seed: workload.seed.value,
                                          parallelism: parallelism)
    for _ in 0..<warmup { _ = try synthetic.step() }
    if parallelism.size > 1 { try parallelism.communicator.barrier(label: "barrier before the profiled steps") }
    synthetic.trainer.resetCommunicationStats()
    let (report, markers) = try profileSteps(synthetic, steps: steps, grouping: options.grouping.value)

    print("")
    print(profileTable(report))
    if !report.kernelRows.isEmpty {
        print("")
        print(kernelTable(report))
    }
    print("")
    print(matmulSplitLine(report))
    let tokens = Double(steps * batch * config.contextLength)
    print("step: \(Format.fixed(report.wallSeconds / Double(steps) * 1e3, 1)) ms mean, "
          + "\(Format.rate(tokens, report.wallSeconds)) tok/s (with the profiler attached)")
    if let communication = synthetic.trainer.communication {
        print(communicationLine(communication, parallelism: parallelism))
    }

    if let path = options.csv.given {
        try FileIO.writeDurably(Data(report.csv.utf8), to: path)
        print("wrote \(path)")
    }
    if let path = options.trace.given {
        let trace = report.chromeTrace(processName: "gpt profile \(backend.name) \(workload.config.value)", markers: markers)
        try FileIO.writeDurably(Data(trace.utf8), to: path)
        print("wrote \(path) (\(report.events.count) events; open in ui.perfetto.dev)")
    }
    try DistributedProcess.finish()
}

/// "communication: ... in flight X ms/step, waited Y ms/step: Z% hidden".
func communicationLine(_ stats: CommunicationStats, parallelism: DataParallelism) -> String {
    let steps = Double(max(stats.steps, 1))
    func perStep(_ seconds: Double) -> String { Format.fixed(seconds / steps * 1e3, 1) + " ms/step" }
    return "communication (rank \(parallelism.rank) of \(parallelism.size)): "
        + "\(MemoryEstimate.format(Int(stats.bytes / steps))) in \(Int((Double(stats.collectives) / steps).rounded())) "
        + "collectives per step; in flight \(perStep(stats.inFlightSeconds)), waited \(perStep(stats.waitedSeconds)): "
        + "\(Format.fixed(stats.hiddenFraction * 100, 0))% hidden behind computation"
}

/// `steps` training steps with a Profiler attached: the report, and one marker event per step.
private func profileSteps(_ workload: SyntheticWorkload, steps: Int, grouping: ProfileReport.Grouping) throws
    -> (ProfileReport, [ProfileEvent]) {
    let backend = workload.model.backend
    let profiler = Profiler()
    var markers: [ProfileEvent] = []
    backend.profiler = profiler
    defer { backend.profiler = nil }
    for step in 1...steps {
        let start = profiler.now()
        _ = try workload.step()
        try backend.synchronize()
        markers.append(ProfileEvent(name: "step \(step)", shape: "B=\(workload.batch) T=\(workload.length)",
                                    flops: 0, bytes: 0, start: start, seconds: profiler.now() - start))
    }
    backend.profiler = nil
    let wall = markers.reduce(0.0) { $0 + $1.seconds }
    return (ProfileReport(events: profiler.events, wallSeconds: wall, steps: steps, grouping: grouping), markers)
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

/// The kernels the ops launched: calls per step, total ms, share of the step, mean µs (device time).
func kernelTable(_ report: ProfileReport) -> String {
    var rows = [["kernel", "op", "calls/step", "total ms", "% of step", "mean µs"]]
    for row in report.kernelRows {
        let callsPerStep = Double(row.calls) / Double(report.steps)
        rows.append([row.name, row.op,
                     callsPerStep == callsPerStep.rounded() ? String(Int(callsPerStep)) : Format.fixed(callsPerStep, 1),
                     Format.fixed(row.seconds * 1e3, 1), Format.fixed(row.fractionOfWall * 100, 1),
                     Format.fixed(row.meanSeconds * 1e6, 1)])
    }
    return renderTable(rows, leftColumns: [0, 1])
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
