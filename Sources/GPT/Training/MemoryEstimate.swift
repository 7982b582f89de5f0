// The memory a command needs before it allocates anything, from sizes alone (ModelConfig+Sizes,
// overflow-checked): for training, parameters, gradients, AdamW's two moments (a rank's shard of
// them with ZeRO-1), the activations of one rank's (B/N, T) micro-batch, the token batches held on
// the host and the KV cache of the text samples (KV heads only, with grouped-query attention); for
// generation, the model, one window's activations, the KV cache and the host copies a checkpoint
// is loaded through; for a benchmark, whatever buffers it lists. `check(_:)` refuses an estimate
// above a `MemoryBudget` (MemoryBudget.swift), so a run that cannot fit fails with one line before
// it starts instead of being killed, or trapping on a failed allocation, part way.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes a command needs, by part.
public struct MemoryEstimate: Sendable, Equatable {
    /// One kind of buffer and its bytes.
    public struct Part: Sendable, Equatable {
        /// What it holds, as the summary line names it ("parameters", "AdamW moments", ...).
        public let name: String
        /// Its size.
        public let bytes: Int

        /// A part of `bytes` bytes.
        public init(_ name: String, bytes: Int) {
            self.name = name
            self.bytes = bytes
        }
    }

    /// Every part, in the order the summary lists them.
    public let parts: [Part]
    /// Their sum.
    public let totalBytes: Int

    /// The sum of `parts`, checked for overflow.
    public init(_ parts: [Part]) throws(SizeOverflow) {
        self.parts = parts
        totalBytes = try CheckedSize.sum(parts.map(\.bytes), of: "the memory estimate")
    }

    /// Float32 (or int32) elements as bytes.
    public static func floats(_ count: Int, _ what: String) throws(SizeOverflow) -> Part {
        Part(what, bytes: try CheckedSize.product(count, 4, of: what))
    }

    /// Training `config` with `settings` on one rank of `ranks` (data-parallel): its micro-batch
    /// of B/ranks × T tokens, with the host holding a step's K micro-batches and the fixed
    /// evaluation batches of both splits, and AdamW's moments sharded over `optimizerShards` ranks
    /// (ZeRO-1; 1: every rank holds them all).
    public static func training(_ config: ModelConfig, settings: TrainingSettings, ranks: Int = 1,
                                optimizerShards: Int = 1) throws(SizeOverflow) -> MemoryEstimate
    {
        let held = try CheckedSize.sum([settings.gradientAccumulation, settings.evalBatches, settings.evalBatches],
                                       of: "\(settings.gradientAccumulation) micro-batches and 2 x "
                                           + "\(settings.evalBatches) evaluation batches")
        let estimate = try training(config, batch: settings.batchSize / max(ranks, 1), heldBatches: held,
                                    optimizerShards: optimizerShards)
        guard settings.sampleInterval > 0, settings.sampleTokens > 0 else { return estimate }
        return try estimate.adding([try generation(config, tokens: settings.sampleTokens, "samples")])
    }

    /// Bytes a generated token costs the host: its id, and room for its text twice over (the
    /// decoded bytes and the string; a BPE token is rarely longer than 16 bytes).
    static let bytesPerGeneratedToken = 36

    /// Generating `tokens` tokens: a KV cache, and the tokens and their text on the host.
    static func generation(_ config: ModelConfig, tokens: Int, _ name: String) throws(SizeOverflow) -> Part {
        let cache = try CheckedSize.product(try config.kvCacheFloatCount(), 4, of: "the KV cache")
        let text = try CheckedSize.product(tokens, bytesPerGeneratedToken, of: "\(tokens) generated tokens")
        return Part("\(name) (KV cache, \(tokens) tokens)", bytes: try CheckedSize.sum([cache, text], of: name))
    }

    /// Training `config` on micro-batches of B = `batch` sequences of T tokens: the flat parameter
    /// and gradient buffers (P floats each), AdamW's two moments (2P floats, or 2·⌈P/N⌉ for this
    /// rank's shard of N), one micro-batch's activations, and `heldBatches` batches (tokens and
    /// targets, B × T each) on the host.
    public static func training(_ config: ModelConfig, batch b: Int, heldBatches: Int,
                                optimizerShards: Int = 1) throws(SizeOverflow) -> MemoryEstimate
    {
        let p = try config.parameterCount(), t = config.contextLength, shards = max(optimizerShards, 1)
        let tokens = try CheckedSize.product(b, t, of: "a batch of \(b) x \(t) tokens")
        let batches = try CheckedSize.product(2, tokens, heldBatches, of: "\(heldBatches) batches of \(b) x \(t) tokens")
        let shard = p / shards + (p % shards == 0 ? 0 : 1)
        return try MemoryEstimate([
            try floats(p, "parameters"), try floats(p, "gradients"),
            try floats(try CheckedSize.product(2, shard, of: "AdamW moments"),
                       shards > 1 ? "AdamW moments (1/\(shards) shard, ZeRO-1)" : "AdamW moments"),
            try floats(try config.activationFloatCount(tokens: tokens), "activations for \(b) x \(t) tokens"),
            try floats(batches, "token batches"),
        ])
    }

    /// This estimate with `more` parts added.
    public func adding(_ more: [Part]) throws(SizeOverflow) -> MemoryEstimate { try MemoryEstimate(parts + more) }

    /// Generating `maxTokens` tokens at a time with `config` (one sequence): the model's
    /// parameters and gradients (a model always has both), the activations of one window of T
    /// tokens (recomputing without the KV cache), the KV cache and the generated tokens' text, and
    /// the two host copies of the parameters a checkpoint is read into.
    public static func inference(_ config: ModelConfig, maxTokens: Int = 0) throws(SizeOverflow) -> MemoryEstimate {
        let p = try config.parameterCount()
        return try MemoryEstimate([
            try floats(p, "parameters"), try floats(p, "gradients"),
            try floats(try config.activationFloatCount(tokens: config.contextLength),
                       "activations for 1 x \(config.contextLength) tokens"),
            try generation(config, tokens: maxTokens, "generation"),
            try floats(try CheckedSize.product(2, p, of: "the loaded parameters"), "checkpoint loading"),
        ])
    }

    /// One line: the total and each part.
    public var summary: String {
        "memory estimate: \(Self.format(totalBytes)) ("
            + parts.map { "\($0.name) \(Self.format($0.bytes))" }.joined(separator: ", ") + ")"
    }

    /// Throws when the estimate exceeds `budget` (nil: nothing to check against).
    public func check(_ budget: MemoryBudget?) throws(MemoryError) {
        guard let budget, totalBytes > budget.bytes else { return }
        throw MemoryError(needed: totalBytes, budget: budget)
    }

    /// 1536 -> "1.5 KiB".
    public static func format(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        guard unit > 0 else { return "\(bytes) B" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) " + units[unit]
    }
}
