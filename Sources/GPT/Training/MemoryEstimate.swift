// The memory a training run needs before it starts: parameters, gradients, AdamW's two moments
// (all float32, P each; P/N each for a rank of a ZeRO-1 run over N ranks), the activations of one
// (B, T) micro-batch and the KV cache a text sample allocates beside them (its keys and values: KVH
// heads, not NH, with grouped-query attention), so that a caller can refuse a run that cannot fit on
// its device before it starts instead of failing mid-way.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Compute

/// The bytes a training run needs on its device, by kind.
public struct MemoryEstimate {
    /// The flat parameter buffer.
    public let parameterBytes: Int
    /// The flat gradient buffer.
    public let gradientBytes: Int
    /// AdamW m and v (this rank's shard of them with ZeRO-1).
    public let optimizerBytes: Int
    /// Ranks AdamW's moments are sharded over (1: not sharded).
    public let optimizerShards: Int
    /// What the forward pass saves for the backward pass, for one micro-batch.
    public let activationBytes: Int
    /// The KV cache (and its scratch) of a sample generated during training.
    public let kvCacheBytes: Int
    /// B: sequences per micro-batch.
    public let batch: Int
    /// T: tokens per sequence.
    public let length: Int

    /// For `model` training on micro-batches of (B, T), with samples generated through a KV cache,
    /// its AdamW moments sharded over `optimizerShards` ranks.
    public init(model: GPTModel, batch: Int, length: Int, optimizerShards: Int = 1) {
        let floatBytes = model.layout.count * MemoryLayout<Float>.size
        parameterBytes = floatBytes
        gradientBytes = floatBytes
        self.optimizerShards = max(optimizerShards, 1)
        optimizerBytes = 2 * ((model.layout.count + self.optimizerShards - 1) / self.optimizerShards)
            * MemoryLayout<Float>.size
        activationBytes = model.activationBytes(batch: batch, length: length)
        kvCacheBytes = KVCache.byteCount(config: model.config)
        self.batch = batch
        self.length = length
    }

    /// All of it.
    public var totalBytes: Int { parameterBytes + gradientBytes + optimizerBytes + activationBytes + kvCacheBytes }

    /// One line: the total and each part.
    public var summary: String {
        "memory estimate: \(Self.format(totalBytes)) (parameters \(Self.format(parameterBytes)), "
            + "gradients \(Self.format(gradientBytes)), AdamW moments \(Self.format(optimizerBytes))"
            + (optimizerShards > 1 ? " (1/\(optimizerShards) shard, ZeRO-1)" : "") + ", "
            + "activations \(Self.format(activationBytes)) for \(batch) x \(length) tokens, "
            + "KV cache \(Self.format(kvCacheBytes)))"
    }

    /// The host's physical memory (sysconf), which is what CPU backends allocate from.
    public static func physicalMemoryBytes() -> Int? {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return nil }
        return pages * pageSize
    }

    /// 1536 -> "1.5 KiB".
    public static func format(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
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
