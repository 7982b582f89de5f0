// `gpt bench`: how fast a backend trains a model, and how close that comes to its own matmul speed.
// It times SGEMM (through the backend's `matmul`) at every matmul shape a training step runs, trains
// on random tokens (no corpus needed) for N steps after warm-up, converts tok/s to model FLOP/s with
// the formula in GPT/FlopCount.swift, and divides by the SGEMM rate measured in the same process.
// Ratios from one run are what to compare on a shared, noisy machine. `--compare NAME` repeats
// everything on a second backend and prints both side by side.
//
// `--op NAME --shape ...` times one kernel instead (KernelBench.swift).
//
// Also home of the synthetic workload `gpt profile` trains on, and the plain-text table both print.

import Compute
import GPT

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let benchCommand = Command(
    name: "bench",
    summary: "SGEMM GFLOP/s at the model's matmul shapes, training tok/s and model FLOP/s on random tokens",
    flags: [
        Flag(name: "backend", placeholder: "NAME", defaultValue: "auto", help: "compute backend (see gpt backends)"),
        Flag(name: "config", placeholder: "PRESET|FILE.json", defaultValue: "char-baby",
             help: "a preset (\(ModelConfig.presetNames.joined(separator: ", "))) or a JSON ModelConfig"),
        Flag(name: "steps", placeholder: "N", defaultValue: "20", help: "timed training steps"),
        Flag(name: "warmup-steps", placeholder: "N", defaultValue: "2", help: "untimed training steps first"),
        Flag(name: "batch-size", placeholder: "B", defaultValue: "12", help: "sequences per step"),
        Flag(name: "vocab", placeholder: "V", defaultValue: nil,
             help: "vocabulary size (default: 65, tiny Shakespeare's, for char presets; else the config's)"),
        Flag(name: "compare", placeholder: "NAME", defaultValue: nil, help: "also bench this backend, side by side"),
        Flag(name: "seed", placeholder: "S", defaultValue: "1337", help: "seed for init and the random tokens"),
        Flag(name: "threads", placeholder: "N", defaultValue: nil, help: "CPU threads for CPU backends (default: all)"),
        Flag(name: "op", placeholder: "matmul|attention|attention-backward", defaultValue: nil,
             help: "time one kernel instead of training (see KernelBench.swift); needs --shape"),
        Flag(name: "shape", placeholder: "M,N,K|B,NH,T,hs", defaultValue: nil, help: "the kernel's size, for --op"),
        Flag(name: "repeat", placeholder: "N", defaultValue: "10", help: "timed calls, for --op"),
    ]
) { arguments in
    if let op = arguments.string("op") {
        try benchKernel(op: op, arguments: arguments)
        return
    }
    guard arguments.string("shape") == nil else {
        throw UsageError(command: "bench", message: "--shape needs --op")
    }
    let steps = try arguments.int("steps", atLeast: 1)!
    let warmup = try arguments.int("warmup-steps", atLeast: 0)!
    let batch = try arguments.int("batch-size", atLeast: 1)!
    let vocab = try arguments.int("vocab", atLeast: 1)
    let seed = try arguments.seed("seed")!
    let options = BackendOptions(threads: try arguments.int("threads", atLeast: 1))
    let config = try syntheticConfig(arguments.string("config")!, vocab: vocab)
    // Resolve both names before any work, so a typo in --compare fails at once.
    let names = [arguments.string("backend")!] + (arguments.string("compare").map { [$0] } ?? [])
    let plugins = try names.map { try backendRegistry.resolve($0) }

    let flops = FlopCount(config: config)
    let length = config.contextLength
    print("config: \(describe(config))")
    print("batch: \(batch) x \(length) = \(Format.grouped(batch * length)) tokens per step (random tokens); "
          + "\(warmup) warm-up + \(steps) timed steps")
    print("model FLOPs per token = \(flops.formula(length: length))")
    var results: [BenchResult] = []
    for plugin in plugins {
        let backend = try plugin.make(options)
        print("backend: \(backend.name) (\(backend.deviceDescription))")
        results.append(try runBench(backend: backend, config: config, batch: batch, steps: steps, warmup: warmup,
                                    seed: seed))
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

/// Buffers big enough for every shape (inputs hold 0.01: no denormals, no overflow) and the calls.
final class MatmulRig {
    let backend: any Backend
    let shapes: [FlopCount.MatmulShape]
    private let a: Buffer, b: Buffer, c: Buffer

    init(backend: any Backend, shapes: [FlopCount.MatmulShape]) throws {
        self.backend = backend
        self.shapes = shapes
        a = try backend.allocate(shapes.map { $0.m * $0.k }.max() ?? 1, .float32)
        b = try backend.allocate(shapes.map { $0.k * $0.n }.max() ?? 1, .float32)
        c = try backend.allocate(shapes.map { $0.m * $0.n }.max() ?? 1, .float32)
        try backend.fill(a.all, with: 0.01)
        try backend.fill(b.all, with: 0.01)
        try backend.fill(c.all, with: 0)
    }

    /// One matmul of `shape` (queued; callers synchronize).
    func call(_ shape: FlopCount.MatmulShape) throws {
        try backend.matmul(c: c.view(offset: 0, count: shape.m * shape.n), a: a.view(offset: 0, count: shape.m * shape.k),
                           b: b.view(offset: 0, count: shape.k * shape.n), m: shape.m, n: shape.n, k: shape.k,
                           transposeA: shape.transposeA, transposeB: shape.transposeB, alpha: 1, beta: shape.beta)
    }

    /// Seconds of each timed call of `shape`: one untimed call, then calls until 0.1 s have passed
    /// (at least 2, at most 50).
    func time(_ shape: FlopCount.MatmulShape) throws -> [Double] {
        try call(shape)
        try backend.synchronize()
        var times: [Double] = []
        let start = ContinuousClock.now
        repeat {
            let callStart = ContinuousClock.now
            try call(shape)
            try backend.synchronize()
            times.append(seconds(since: callStart))
        } while times.count < 50 && (times.count < 2 || seconds(since: start) < 0.1)
        return times
    }

    /// Every matmul of one training step, each shape `callsPerStep` times.
    func replayStep() throws {
        for shape in shapes {
            for _ in 0..<shape.callsPerStep { try call(shape) }
        }
        try backend.synchronize()
    }
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

/// The config to bench: a preset or JSON file, with the vocabulary a char corpus would give it
/// (presets carry a placeholder) unless `--vocab` says otherwise.
func syntheticConfig(_ value: String, vocab: Int?) throws -> ModelConfig {
    var config = try loadModelConfig(value)
    let isCharPreset = ModelConfig.presetNames.contains(value) && value.contains("char")
    if let vocab { config.vocabSize = vocab } else if isCharPreset { config.vocabSize = 65 }
    return config
}

/// A model, its trainer and a few batches of random tokens (uniform over the vocabulary), cycled.
/// Speed does not depend on the token values, so no corpus is needed.
final class SyntheticWorkload {
    let model: GPTModel
    let trainer: Trainer
    let batch: Int, length: Int
    private let batches: [(tokens: [Int32], targets: [Int32])]
    private var next = 0

    init(config: ModelConfig, backend: any Backend, batch: Int, seed: UInt64) throws {
        self.batch = batch
        length = config.contextLength
        model = try GPTModel(config: config, backend: backend, seed: seed)
        var settings = TrainingSettings()
        settings.batchSize = batch
        settings.seed = seed
        settings.warmupSteps = 0
        trainer = try Trainer(model: model, settings: settings)
        var generator = SplitMix64(seed: CounterRNG.seed(seed, 0xBE7C))
        let count = batch * length, v = Int32(config.vocabSize)
        batches = (0..<4).map { _ in
            let stream = (0...count).map { _ in Int32.random(in: 0..<v, using: &generator) }
            return (Array(stream[0..<count]), Array(stream[1...count]))
        }
    }

    /// One optimizer step on the next batch; throws when the loss is not finite.
    func step() throws -> StepStats {
        let item = batches[next % batches.count]
        next += 1
        let stats = try trainer.trainStep(tokens: item.tokens, targets: item.targets, batch: batch, length: length)
        guard stats.loss.isFinite else { throw RuntimeError("training diverged (loss \(stats.loss))") }
        return stats
    }
}

/// A rate with about three significant digits: 1234.5 -> "1234", 12.34 -> "12.3", 0.01234 -> "0.0123".
func significant(_ value: Double) -> String {
    guard value.isFinite, value != 0 else { return Format.fixed(value, 1) }
    let magnitude = abs(value)
    let decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : min(6, 2 - Int(log10(magnitude).rounded(.down)))
    return Format.fixed(value, decimals)
}

/// Rows of cells as aligned plain text: two spaces between columns, numbers right-aligned,
/// `leftColumns` left-aligned.
func renderTable(_ rows: [[String]], leftColumns: Set<Int> = [0]) -> String {
    let columns = rows.map(\.count).max() ?? 0
    let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { column, cell in
            let padding = String(repeating: " ", count: widths[column] - cell.count)
            return leftColumns.contains(column) ? cell + padding : padding + cell
        }.joined(separator: "  ").trimmingTrailingSpaces()
    }.joined(separator: "\n")
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
