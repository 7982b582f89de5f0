// `gpt bench`: how fast a backend trains a model, and how close that comes to its own matmul speed.
// It times SGEMM (through the backend's `matmul`) at every matmul shape a training step runs, trains
// on random tokens (no corpus needed) for N steps after warm-up, converts tok/s to model FLOP/s with
// the formula in GPT/FlopCount.swift, and divides by the SGEMM rate measured in the same process.
// Ratios from one run are what to compare on a shared, noisy machine. `--compare NAME` repeats
// everything on a second backend and prints both side by side.
//
// `--op NAME --shape ...` times one kernel instead (KernelBench.swift).
//

import Compute
import GPT

struct BenchOptions: OptionGroup {
    let workload = WorkloadOptions(steps: 20, stepsHelp: "timed training steps", warmupSteps: 2,
                                   warmupHelp: "untimed training steps first")
    let compare = Option("compare", CommonOptions.backendName, help: "also bench this backend, side by side")
    let op = Option("op", Choice.cases(of: KernelBenchSpec.Op.self),
                    help: "time one kernel instead of training (see KernelBench.swift); needs --shape")
    let shape = Option("shape", .text("M,N,K|B,NH,T,hs"), help: "the kernel's size, for --op")
    let kvHeads = Option("kv-heads", .integer(atLeast: 1),
                         help: "key/value heads for --op attention*: grouped-query attention (default NH)")
    let repeats = Option("repeat", .integer(atLeast: 1), default: 10, help: "timed calls, for --op")

    var all: [any AnyOption] { workload.all + [compare, op, shape, kvHeads, repeats] }
}

let benchCommand = Command("bench",
                           summary: "SGEMM GFLOP/s at the model's matmul shapes, training tok/s and model FLOP/s on random tokens",
                           options: BenchOptions.self) { options in
    if let op = options.op.given {
        try benchKernel(op: op, options: options)
        return
    }
    guard !options.shape.wasGiven else {
        throw UsageError(command: "bench", message: "--shape needs --op")
    }
    guard !options.kvHeads.wasGiven else {
        throw UsageError(command: "bench", message: "--kv-heads needs --op attention or attention-backward")
    }
    let workload = options.workload
    let (steps, warmup, batch) = (workload.steps.value, workload.warmupSteps.value, workload.batchSize.value)
    let config = try workload.modelConfig()
    // Resolve both names before any work, so a typo in --compare fails at once.
    let names = [workload.backend.backend.value] + (options.compare.given.map { [$0] } ?? [])
    let plugins = try names.map { try backendRegistry.resolve($0) }

    let length = config.contextLength
    let rows = try CheckedSize.product(batch, length, of: "a batch of \(batch) x \(length) tokens")
    let flops = FlopCount(config: config)
    let estimate = try SyntheticWorkload.memoryEstimate(config: config, batch: batch)
        .adding(try MatmulRig.memoryEstimate(shapes: flops.matmulShapes(rows: rows)))
    print("config: \(describe(config))")
    print("batch: \(batch) x \(length) = \(Format.grouped(batch * length)) tokens per step (random tokens); "
          + "\(warmup) warm-up + \(steps) timed steps")
    print("model FLOPs per token = \(flops.formula(length: length))")
    var results: [BenchResult] = []
    for plugin in plugins {
        let backend = try plugin.make(workload.backend.backendOptions)
        print("backend: \(backend.name) (\(backend.deviceDescription))")
        try checkMemory(estimate, backend: backend, limit: workload.memoryLimit.given, work: "the benchmark",
                        hint: "use a smaller --batch-size or --config")
        results.append(try runBench(backend: backend, config: config, batch: batch, steps: steps, warmup: warmup,
                                    seed: workload.seed.value))
    }
    print("")
    printBench(results, flops: flops)
}

/// What one backend measured. Each timed training step is followed at once by a replay of that
/// step's matmuls (every shape, `callsPerStep` times, through `backend.matmul`), so the two sides of
/// the ratio see the same machine load. Figures come as means (what a run sees on the machine as it
/// is now) and bests (fastest step, fastest replay: closest to an unloaded machine).
struct BenchResult {
    enum Estimate { case mean, best }

    let backendName: String
    let shapes: [FlopCount.MatmulShape]
    /// Per shape, the seconds of every call in the per-shape sweep before training.
    let callSeconds: [[Double]]
    /// Seconds of each timed training step.
    let stepSeconds: [Double]
    /// Seconds of each replay of one step's matmuls (one per training step, right after it).
    let replaySeconds: [Double]
    let tokensPerStep: Int
    let finalLoss: Float
    let trainingFlopsPerToken: Double

    private func pick(_ values: [Double], _ estimate: Estimate) -> Double {
        estimate == .best ? values.min()! : values.reduce(0, +) / Double(values.count)
    }
    func gigaflops(_ index: Int, _ estimate: Estimate) -> Double {
        shapes[index].flops / max(pick(callSeconds[index], estimate), 1e-12) / 1e9
    }
    /// Σ calls·flops over one step's matmuls (= 6·P·B·T).
    var stepMatmulFlops: Double { shapes.reduce(0) { $0 + Double($1.callsPerStep) * $1.flops } }
    /// SGEMM rate over one step's matmul mix (FLOP-weighted by construction: the replay runs them all).
    func sgemmFlopsPerSecond(_ estimate: Estimate) -> Double {
        stepMatmulFlops / max(pick(replaySeconds, estimate), 1e-12)
    }
    func secondsPerStep(_ estimate: Estimate) -> Double { pick(stepSeconds, estimate) }
    func tokensPerSecond(_ estimate: Estimate) -> Double {
        Double(tokensPerStep) / max(secondsPerStep(estimate), 1e-12)
    }
    func modelFlopsPerSecond(_ estimate: Estimate) -> Double { tokensPerSecond(estimate) * trainingFlopsPerToken }
    func ratio(_ estimate: Estimate) -> Double { modelFlopsPerSecond(estimate) / sgemmFlopsPerSecond(estimate) }
    /// Median over steps of (that step's model FLOP/s ÷ the SGEMM rate of the replay right after it).
    var pairedRatioMedian: Double {
        let ratios = zip(stepSeconds, replaySeconds).map { step, replay in
            (Double(tokensPerStep) * trainingFlopsPerToken / step) / (stepMatmulFlops / replay)
        }.sorted()
        let middle = ratios.count / 2
        return ratios.count % 2 == 1 ? ratios[middle] : (ratios[middle - 1] + ratios[middle]) / 2
    }
}

/// The per-shape SGEMM sweep, then warm-up steps, then each timed step followed by a replay of its matmuls.
func runBench(backend: any Backend, config: ModelConfig, batch: Int, steps: Int, warmup: Int,
              seed: UInt64) throws -> BenchResult {
    let length = config.contextLength
    let shapes = FlopCount(config: config).matmulShapes(rows: batch * length)
    let rig = try MatmulRig(backend: backend, shapes: shapes)
    let sweep = try shapes.map { try rig.time($0) }
    let workload = try SyntheticWorkload(config: config, backend: backend, batch: batch, seed: seed)
    for _ in 0..<warmup { _ = try workload.step() }
    try rig.replayStep()  // untimed, like the warm-up steps
    var stepSeconds: [Double] = [], replaySeconds: [Double] = []
    var loss: Float = .nan
    for _ in 0..<steps {
        let start = ContinuousClock.now
        loss = try workload.step().loss
        try backend.synchronize()
        stepSeconds.append(seconds(since: start))
        let replayStart = ContinuousClock.now
        try rig.replayStep()
        replaySeconds.append(seconds(since: replayStart))
    }
    return BenchResult(backendName: backend.name, shapes: shapes, callSeconds: sweep, stepSeconds: stepSeconds,
                       replaySeconds: replaySeconds, tokensPerStep: batch * length, finalLoss: loss,
                       trainingFlopsPerToken: FlopCount(config: config).trainingFlopsPerToken(length: length))
}

func printBench(_ results: [BenchResult], flops: FlopCount) {
    guard let first = results.first else { return }
    let compare = results.count == 2
    func speed(_ value: (BenchResult) -> Double) -> [String] {
        compare ? [Format.fixed(value(results[0]) / value(results[1]), 2) + "x"] : []
    }
    let speedHeader = compare ? ["\(results[0].backendName)/\(results[1].backendName) (best)"] : []
    var rows = [["matmul", "m", "n", "k", "op", "calls/step", "GFLOP/call"]
                + results.flatMap { ["\($0.backendName) GFLOP/s mean", "best"] } + speedHeader]
    for (index, shape) in first.shapes.enumerated() {
        let op = (shape.transposeA ? "T" : "N") + (shape.transposeB ? "T" : "N") + (shape.beta != 0 ? " +=" : "")
        rows.append([shape.role, String(shape.m), String(shape.n), String(shape.k), op, String(shape.callsPerStep),
                     significant(shape.flops / 1e9)]
                    + results.flatMap { [significant($0.gigaflops(index, .mean)), significant($0.gigaflops(index, .best))] }
                    + speed { $0.gigaflops(index, .best) })
    }
    print(renderTable(rows, leftColumns: [0, 4]))
    print("")

    var summary = [[""] + results.flatMap { ["\($0.backendName) mean", "best"] } + speedHeader]
    func line(_ label: String, _ value: (BenchResult, BenchResult.Estimate) -> Double, _ format: (Double) -> String) {
        summary.append([label] + results.flatMap { [format(value($0, .mean)), format(value($0, .best))] }
                       + speed { value($0, .best) })
    }
    line("SGEMM GFLOP/s (a step's matmuls replayed)", { $0.sgemmFlopsPerSecond($1) / 1e9 }, significant)
    line("training tok/s", { $0.tokensPerSecond($1) }, { Format.grouped(Int($0.rounded())) })
    line("ms per step", { $0.secondsPerStep($1) * 1e3 }, { Format.fixed($0, 1) })
    line("model GFLOP/s (tok/s x FLOPs per token)", { $0.modelFlopsPerSecond($1) / 1e9 }, significant)
    line("ratio model FLOP/s / SGEMM FLOP/s", { $0.ratio($1) }, { Format.fixed($0, 3) })
    summary.append(["ratio, median over (step, replay) pairs"]
                   + results.flatMap { [Format.fixed($0.pairedRatioMedian, 3), ""] } + speed(\.pairedRatioMedian))
    print(renderTable(summary, leftColumns: [0]))
    print("model FLOPs per token = \(flops.formula(length: flops.config.contextLength))")
    print("each timed step is followed by a replay of its matmuls (SGEMM at the same load); "
          + "mean: over steps and calls; best: fastest step, replay, call")
    for result in results {
        let replays = result.replaySeconds.map { Format.fixed($0 * 1e3, 1) }.joined(separator: " ")
        let steps = result.stepSeconds.map { Format.fixed($0 * 1e3, 1) }.joined(separator: " ")
        print("\(result.backendName): final loss \(Format.fixed(Double(result.finalLoss), 4)); "
              + "step ms: \(steps); matmul replay ms: \(replays)")
    }
}

