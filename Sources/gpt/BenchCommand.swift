// `gpt bench`: how fast a backend trains a model, and how close that comes to its own matmul speed.
// It times SGEMM (through the backend's `matmul`) at every matmul shape a training step runs, trains
// on random tokens (no corpus needed) for N steps after warm-up, converts tok/s to model FLOP/s with
// the formula in GPT/FlopCount.swift, and divides by the SGEMM rate measured in the same process.
// Ratios from one run are what to compare on a shared, noisy machine. `--compare NAME` repeats
// everything on a second backend and prints both side by side.
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
    ]
) { arguments in
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

/// What one backend measured. Every figure comes two ways: from means (what a long run sees on this
/// machine as loaded now) and from the best call or step (closest to the unloaded machine; on a
/// shared machine the steadier basis for the ratio, since both sides get the same treatment).
struct BenchResult {
    enum Estimate { case mean, best }

    let backendName: String
    let shapes: [FlopCount.MatmulShape]
    /// Per shape, the seconds of every timed call, from the sweep before and the sweep after training.
    let callSeconds: [[Double]]
    /// One step's matmuls (calls per step × mean call) in the sweep before and the one after training.
    let sweepStepSeconds: (before: Double, after: Double)
    /// Seconds of each timed training step.
    let stepSeconds: [Double]
    let tokensPerStep: Int
    let finalLoss: Float
    let trainingFlopsPerToken: Double

    private func pick(_ values: [Double], _ estimate: Estimate) -> Double {
        estimate == .best ? values.min()! : values.reduce(0, +) / Double(values.count)
    }
    /// Seconds per call of shape `index`.
    func callSeconds(_ index: Int, _ estimate: Estimate) -> Double { pick(callSeconds[index], estimate) }
    func gigaflops(_ index: Int, _ estimate: Estimate) -> Double {
        shapes[index].flops / max(callSeconds(index, estimate), 1e-12) / 1e9
    }
    /// FLOP-weighted SGEMM rate over one step's matmul mix: Σ calls·flops / Σ calls·seconds.
    func sgemmFlopsPerSecond(_ estimate: Estimate) -> Double {
        var work = 0.0, time = 0.0
        for (index, shape) in shapes.enumerated() {
            work += Double(shape.callsPerStep) * shape.flops
            time += Double(shape.callsPerStep) * callSeconds(index, estimate)
        }
        return work / max(time, 1e-12)
    }
    func secondsPerStep(_ estimate: Estimate) -> Double { pick(stepSeconds, estimate) }
    func tokensPerSecond(_ estimate: Estimate) -> Double {
        Double(tokensPerStep) / max(secondsPerStep(estimate), 1e-12)
    }
    func modelFlopsPerSecond(_ estimate: Estimate) -> Double { tokensPerSecond(estimate) * trainingFlopsPerToken }
    func ratio(_ estimate: Estimate) -> Double { modelFlopsPerSecond(estimate) / sgemmFlopsPerSecond(estimate) }
}

/// SGEMM sweep, training, SGEMM sweep again (the two sweeps bracket the training so drift in machine
/// load reaches both sides of the ratio; their difference is printed as a noise indicator).
func runBench(backend: any Backend, config: ModelConfig, batch: Int, steps: Int, warmup: Int,
              seed: UInt64) throws -> BenchResult {
    let length = config.contextLength
    let shapes = FlopCount(config: config).matmulShapes(rows: batch * length)
    let before = try timeMatmuls(backend: backend, shapes: shapes)
    let workload = try SyntheticWorkload(config: config, backend: backend, batch: batch, seed: seed)
    for _ in 0..<warmup { _ = try workload.step() }
    var stepSeconds: [Double] = []
    var loss: Float = .nan
    for _ in 0..<steps {
        let start = ContinuousClock.now
        loss = try workload.step().loss
        try backend.synchronize()
        stepSeconds.append(seconds(since: start))
    }
    let after = try timeMatmuls(backend: backend, shapes: shapes)
    func stepMatmulSeconds(_ sweep: [[Double]]) -> Double {
        zip(shapes, sweep).reduce(0) { $0 + Double($1.0.callsPerStep) * $1.1.reduce(0, +) / Double($1.1.count) }
    }
    return BenchResult(backendName: backend.name, shapes: shapes, callSeconds: zip(before, after).map { $0 + $1 },
                       sweepStepSeconds: (stepMatmulSeconds(before), stepMatmulSeconds(after)),
                       stepSeconds: stepSeconds, tokensPerStep: batch * length, finalLoss: loss,
                       trainingFlopsPerToken: FlopCount(config: config).trainingFlopsPerToken(length: length))
}

/// Seconds of each timed call of each shape through `backend.matmul`: one untimed call, then calls
/// until 0.1 s have passed (at least 2, at most 50). Inputs hold 0.01 (no denormals, no overflow).
func timeMatmuls(backend: any Backend, shapes: [FlopCount.MatmulShape]) throws -> [[Double]] {
    let a = try backend.allocate(shapes.map { $0.m * $0.k }.max() ?? 1, .float32)
    let b = try backend.allocate(shapes.map { $0.k * $0.n }.max() ?? 1, .float32)
    let c = try backend.allocate(shapes.map { $0.m * $0.n }.max() ?? 1, .float32)
    try backend.fill(a.all, with: 0.01)
    try backend.fill(b.all, with: 0.01)
    try backend.fill(c.all, with: 0)
    return try shapes.map { shape in
        func call() throws {
            try backend.matmul(c: c.view(offset: 0, count: shape.m * shape.n), a: a.view(offset: 0, count: shape.m * shape.k),
                               b: b.view(offset: 0, count: shape.k * shape.n), m: shape.m, n: shape.n, k: shape.k,
                               transposeA: shape.transposeA, transposeB: shape.transposeB, alpha: 1, beta: shape.beta)
            try backend.synchronize()
        }
        try call()
        var times: [Double] = []
        let start = ContinuousClock.now
        repeat {
            let callStart = ContinuousClock.now
            try call()
            times.append(seconds(since: callStart))
        } while times.count < 50 && (times.count < 2 || seconds(since: start) < 0.1)
        return times
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
    line("SGEMM GFLOP/s (FLOP-weighted over a step's matmuls)", { $0.sgemmFlopsPerSecond($1) / 1e9 }, significant)
    line("training tok/s", { $0.tokensPerSecond($1) }, { Format.grouped(Int($0.rounded())) })
    line("ms per step", { $0.secondsPerStep($1) * 1e3 }, { Format.fixed($0, 1) })
    line("model GFLOP/s (tok/s x FLOPs per token)", { $0.modelFlopsPerSecond($1) / 1e9 }, significant)
    line("ratio model FLOP/s / SGEMM FLOP/s", { $0.ratio($1) }, { Format.fixed($0, 3) })
    print(renderTable(summary, leftColumns: [0]))
    print("model FLOPs per token = \(flops.formula(length: flops.config.contextLength))")
    print("mean: over every timed call and step; best: fastest call per shape and fastest step (least disturbed by other load)")
    for result in results {
        print("\(result.backendName): final loss \(Format.fixed(Double(result.finalLoss), 4)); one step's matmuls take "
              + "\(Format.fixed(result.sweepStepSeconds.before * 1e3, 1)) ms before training, "
              + "\(Format.fixed(result.sweepStepSeconds.after * 1e3, 1)) ms after (load drift)")
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
        var options = TrainingOptions()
        options.batchSize = batch
        options.seed = seed
        options.warmupSteps = 0
        trainer = try Trainer(model: model, options: options)
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
