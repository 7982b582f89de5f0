// Which ops this backend runs. Every protocol op has an OpenCL kernel (Kernels/*.cl, one file per
// family), so `supports(_:)` answers yes unless that family's kernel file is missing from the
// build, which conformance then reports as SKIP with the file's name instead of failing.

import Compute

extension OpenCLBackend {
    /// The kernel file (Kernels/<name>.cl) each op runs, for ops that launch kernels.
    static let kernelFile: [Op: String] = [
        .matmul: "matmul",
        .add: "elementwise", .addScaled: "elementwise", .scale: "elementwise", .addBias: "elementwise",
        .biasBackward: "reduce", .squaredNorm: "reduce",
        .embeddingForward: "embedding", .embeddingBackward: "embedding",
        .layerNormForward: "norm", .layerNormBackward: "norm", .rmsNormForward: "norm", .rmsNormBackward: "norm",
        .geluForward: "activations", .geluBackward: "activations",
        .reluForward: "activations", .reluBackward: "activations",
        .swigluForward: "activations", .swigluBackward: "activations",
        .dropoutForward: "activations", .dropoutBackward: "activations",
        .ropeForward: "rope", .ropeBackward: "rope",
        .attentionForward: "attention", .attentionBackward: "attention_backward", .attentionCachedForward: "attention",
        .softmaxForward: "softmax", .softmaxBackward: "softmax", .crossEntropyForward: "softmax",
        .adamW: "optimizer",
    ]

    public func supports(_ op: Op) -> Support {
        if let file = Self.kernelFile[op], EmbeddedKernels.sources[file] == nil {
            return .unsupported(reason: "kernel file Kernels/\(file).cl is missing from this build")
        }
        return .supported
    }
}
