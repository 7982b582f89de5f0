// The memory a training run needs before it starts: parameters, gradients, AdamW's two moments
// (all float32, P each) and the activations of one (B, T) micro-batch; checked against what the
// device holds, so a run that cannot fit is refused with one line instead of failing mid-way.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Compute
import GPT

struct MemoryEstimate {
    let parameterBytes: Int
    let gradientBytes: Int
    /// AdamW m and v.
    let optimizerBytes: Int
    let activationBytes: Int
    let batch: Int
    let length: Int

    /// For `model` training on micro-batches of (B, T). KV caches are not counted: samples reuse
    /// far less memory than a training micro-batch.
    init(model: GPTModel, batch: Int, length: Int) {
        let floatBytes = model.layout.count * MemoryLayout<Float>.size
        parameterBytes = floatBytes
        gradientBytes = floatBytes
        optimizerBytes = 2 * floatBytes
        activationBytes = model.activationBytes(batch: batch, length: length)
        self.batch = batch
        self.length = length
    }

    var totalBytes: Int { parameterBytes + gradientBytes + optimizerBytes + activationBytes }

    var summary: String {
        "memory estimate: \(Self.format(totalBytes)) (parameters \(Self.format(parameterBytes)), "
            + "gradients \(Self.format(gradientBytes)), AdamW moments \(Self.format(optimizerBytes)), "
            + "activations \(Self.format(activationBytes)) for \(batch) x \(length) tokens)"
    }

    /// Throws a one-line refusal when the estimate exceeds `capacity` bytes.
    func check(capacity: Int, device: String) throws {
        guard totalBytes > capacity else { return }
        throw RuntimeError("the run needs about \(Self.format(totalBytes)) but \(device) holds \(Self.format(capacity)); "
                           + "use a smaller --batch-size (with --grad-accum to keep the batch) or a smaller model")
    }

    /// The host's physical memory (sysconf), which is what CPU backends allocate from.
    static func physicalMemoryBytes() -> Int? {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return nil }
        return pages * pageSize
    }

    /// 1536 -> "1.5 KiB".
    static func format(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : Format.fixed(value, 1) + " " + units[unit]
    }
}
