// The names of the protocol's ops: used for `supports(_:)`, profiler records and conformance lines.
// Every checked entry point (Contract/*.swift) names its op with one of these cases, and the
// conformance catalogue test requires a case for each, so the list and the contract cannot drift.

public enum Op: String, CaseIterable, Sendable {
    case matmul
    case add, addScaled, scale, addBias, biasBackward
    case embeddingForward, embeddingBackward
    case layerNormForward, layerNormBackward, rmsNormForward, rmsNormBackward
    case geluForward, geluBackward, reluForward, reluBackward
    case swigluForward, swigluBackward, dropoutForward, dropoutBackward
    case ropeForward, ropeBackward
    case attentionForward, attentionBackward, attentionCachedForward
    case softmaxForward, softmaxBackward, crossEntropyForward
    case adamW, squaredNorm
    case copy, fill, upload, download
}

/// Whether a backend can run an op, and why not.
public enum Support: Equatable, Sendable {
    case supported
    case unsupported(reason: String)

    public var isSupported: Bool { self == .supported }
}
