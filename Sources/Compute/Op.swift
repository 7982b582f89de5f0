// The names of the protocol's ops: used for `supports(_:)`, profiler records and conformance lines.
// Every checked entry point (Contract/*.swift) names its op with one of these cases, and the
// conformance catalogue test requires a case for each, so the list and the contract cannot drift.

/// One op of the protocol, by the name its checked entry point has (the raw value is that name, as
/// profiles and conformance lines print it). Each case's contract is the doc comment of its entry
/// point in the family file named below.
public enum Op: String, CaseIterable, Sendable {
    /// Strided batched GEMM (Contract/Matmul.swift).
    case matmul
    /// Elementwise sums and scaling, bias and its gradient (Contract/Elementwise.swift).
    case add, addScaled, scale, addBias, biasBackward
    /// Token-embedding lookup and its scatter-add gradient (Contract/Embedding.swift).
    case embeddingForward, embeddingBackward
    /// LayerNorm and RMSNorm, forward and backward (Contract/Norms.swift).
    case layerNormForward, layerNormBackward, rmsNormForward, rmsNormBackward
    /// GELU and ReLU, forward and backward (Contract/Activations.swift).
    case geluForward, geluBackward, reluForward, reluBackward
    /// Fused SwiGLU and counter-seeded dropout, forward and backward (Contract/Activations.swift).
    case swigluForward, swigluBackward, dropoutForward, dropoutBackward
    /// Rotary position embedding in place, and its inverse rotation (Contract/Positions.swift).
    case ropeForward, ropeBackward
    /// Fused causal attention, its backward, and one step against a KV cache (Contract/Attention.swift).
    case attentionForward, attentionBackward, attentionCachedForward
    /// Row softmax, its backward, and fused softmax cross-entropy (Contract/Softmax.swift).
    case softmaxForward, softmaxBackward, crossEntropyForward
    /// The AdamW update and the squared L2 norm gradient clipping needs (Contract/Optimizer.swift).
    case adamW, squaredNorm
    /// Device copy and fill, and host transfers (Contract/Memory.swift).
    case copy, fill, upload, download
}

/// Whether a backend can run an op, and why not.
public enum Support: Equatable, Sendable {
    /// The op runs here for every argument its contract accepts.
    case supported
    /// It does not; `reason` is one line for `gpt backends`, conformance and the thrown error.
    case unsupported(reason: String)

    /// True for `.supported`.
    public var isSupported: Bool { self == .supported }
}
