// The synthetic training workload `gpt bench` and `gpt profile` run: the options that describe it
// (backend, model config, batch, steps, seed), a model trained on random tokens (no corpus
// needed: speed does not depend on the token values), and the matmul rig that times SGEMM at a
// training step's shapes; each with the memory estimate checked before it is allocated.

import Compute
import GPT

/// The workload options bench and profile share; their step counts differ.
struct WorkloadOptions {
    let backend = BackendSelection()
    let config = CommonOptions.config()
    let steps: Option<Int>
    let warmupSteps: Option<Int>
    let batchSize = Option("batch-size", .integer(atLeast: 1, placeholder: "B"), default: 12, help: "sequences per step")
    let vocab = Option("vocab", .integer(atLeast: 1, placeholder: "V"),
                       documentedDefault: "65, tiny Shakespeare's, for char presets; else the config's",
                       help: "vocabulary size")
    let seed = CommonOptions.seed()
    let memoryLimit = CommonOptions.memoryLimit()

    init(steps: Int, stepsHelp: String, warmupSteps: Int, warmupHelp: String) {
        self.steps = Option("steps", .integer(atLeast: 1), default: steps, help: stepsHelp)
        self.warmupSteps = Option("warmup-steps", .integer(atLeast: 0), default: warmupSteps, help: warmupHelp)
    }

    var all: [any AnyOption] { backend.all + [config, steps, warmupSteps, batchSize, vocab, seed, memoryLimit] }

    /// --config with --vocab applied (see `syntheticConfig`).
    func modelConfig() throws -> ModelConfig { try syntheticConfig(config.value, vocab: vocab.given) }
}

/// The config to bench: a preset or a config file (a run config's model section), with the
/// vocabulary a char corpus would give it (char presets and files without vocabSize carry a
/// placeholder) unless `--vocab` says otherwise.
func syntheticConfig(_ value: String, vocab: Int?) throws -> ModelConfig {
    let run = try loadRunConfig(value)
    var config = run.model
    let isPreset = ModelConfig.presetNames.contains(value)
    let placeholder = isPreset ? value.contains("char") : run.vocabularyFromData  // a file that left vocabSize out
    if let vocab { config.vocabSize = vocab } else if placeholder { config.vocabSize = 65 }
    return config
}

/// A model, its trainer and a few batches of random tokens (uniform over the vocabulary), cycled.
/// Speed does not depend on the token values, so no corpus is needed. Data-parallel, `batch` is
/// the global batch and this rank trains on its rows of it.
final class SyntheticWorkload {
    let model: GPTModel
    let trainer: Trainer
    let batch: Int, length: Int
    /// This rank's sequences of each batch.
    let rows: Range<Int>
    private let batches: [(tokens: [Int32], targets: [Int32])]
    private var next = 0

    /// What `init` allocates on one rank of `parallelism`: a model and its trainer for its rows
    /// of micro-batches of `batch` sequences (AdamW sharded with ZeRO-1), and the random batches
    /// (four of its rows, plus the whole batch's stream they are cut from).
    static func memoryEstimate(config: ModelConfig, batch: Int,
                               parallelism: DataParallelism = .singleProcess) throws -> MemoryEstimate {
        let ranks = parallelism.size
        return try MemoryEstimate.training(config, batch: batch / ranks, heldBatches: 4 + ranks,
                                           optimizerShards: parallelism.shardsOptimizerState ? ranks : 1)
    }

    init(config: ModelConfig, backend: any Backend, batch: Int, seed: UInt64,
         parallelism: DataParallelism = .singleProcess) throws {
        try parallelism.check(batch: batch)
        self.batch = batch
        length = config.contextLength
        rows = parallelism.rows(ofBatch: batch)
        model = try GPTModel(config: config, backend: backend, seed: seed)
        var settings = TrainingSettings()
        settings.batchSize = batch
        settings.seed = seed
        settings.warmupSteps = 0
        trainer = try Trainer(model: model, settings: settings, parallelism: parallelism)
        var generator = SplitMix64(seed: CounterRNG.seed(seed, 0xBE7C))
        let count = batch * length, v = Int32(config.vocabSize)
        let span = (rows.lowerBound * length)..<(rows.upperBound * length)
        batches = (0..<4).map { _ in
            let stream = (0...count).map { _ in Int32.random(in: 0..<v, using: &generator) }
            return (Array(stream[span]), Array(stream[(span.lowerBound + 1)..<(span.upperBound + 1)]))
        }
    }

    /// One optimizer step on the next batch; throws when the loss is not finite.
    func step() throws -> StepStats {
        let item = batches[next % batches.count]
        next += 1
        let stats = try trainer.trainStep(tokens: item.tokens, targets: item.targets, batch: rows.count, length: length,
                                          firstSequence: rows.lowerBound)
        guard stats.loss.isFinite else { throw RuntimeError("training diverged (loss \(stats.loss))") }
        return stats
    }
}

/// Buffers big enough for every shape (inputs hold 0.01: no denormals, no overflow) and the calls.
final class MatmulRig {
    let backend: any Backend
    let shapes: [FlopCount.MatmulShape]
    private let a: Buffer, b: Buffer, c: Buffer

    /// The three buffers `init` allocates: the largest A, B and C of `shapes`.
    static func memoryEstimate(shapes: [FlopCount.MatmulShape]) throws -> [MemoryEstimate.Part] {
        let largest = { (what: String, sizes: [(Int, Int)]) throws -> MemoryEstimate.Part in
            try MemoryEstimate.floats(try sizes.map { try CheckedSize.product($0.0, $0.1, of: what) }.max() ?? 1, what)
        }
        return [try largest("SGEMM A", shapes.map { ($0.m, $0.k) }), try largest("SGEMM B", shapes.map { ($0.k, $0.n) }),
                try largest("SGEMM C", shapes.map { ($0.m, $0.n) })]
    }

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

