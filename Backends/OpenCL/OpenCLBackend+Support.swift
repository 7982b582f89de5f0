// Which ops this backend runs, and placeholders for the fused families still being written.
//
// Two engineers build the OpenCL backend at once. The fused families (attention, activations incl.
// SwiGLU and dropout, RoPE, softmax and cross-entropy) land as `OpenCLBackend+<Family>.swift` beside
// `Kernels/<family>.cl`. Until then the constrained protocol extension below supplies their
// requirements, throwing `unsupported`; a method defined on `OpenCLBackend` itself wins over these
// defaults, so each family's file replaces its placeholders without touching this one.
// `supports(_:)` reports an op unsupported while its kernel file is absent, so conformance SKIPs it.

import Compute

extension OpenCLBackend {
    /// The kernel file (Kernels/<name>.cl) each fused op needs.
    static let fusedKernelFile: [Op: String] = [
        .geluForward: "activations", .geluBackward: "activations",
        .reluForward: "activations", .reluBackward: "activations",
        .swigluForward: "activations", .swigluBackward: "activations",
        .dropoutForward: "activations", .dropoutBackward: "activations",
        .ropeForward: "rope", .ropeBackward: "rope",
        .attentionForward: "attention", .attentionBackward: "attention",
        .softmaxForward: "softmax", .softmaxBackward: "softmax", .crossEntropyForward: "softmax",
    ]

    public func supports(_ op: Op) -> Support {
        if let file = Self.fusedKernelFile[op], EmbeddedKernels.sources[file] == nil {
            return .unsupported(reason: "kernel file Kernels/\(file).cl is not written yet")
        }
        return .supported
    }

    func pending(_ op: Op) -> BackendError {
        .unsupported(op: op.rawValue, backend: name, reason: "OpenCL kernel not written yet")
    }
}

/// Placeholders for ops whose `OpenCLBackend+<Family>.swift` has not landed yet (see file comment).
extension Backend where Self: OpenCLBackend {
    public func geluForward(out: BufferView, input: BufferView) throws { throw pending(.geluForward) }
    public func geluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        throw pending(.geluBackward)
    }
    public func reluForward(out: BufferView, input: BufferView) throws { throw pending(.reluForward) }
    public func reluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        throw pending(.reluBackward)
    }
    public func swigluForward(out: BufferView, input: BufferView, rows: Int, hidden: Int) throws {
        throw pending(.swigluForward)
    }
    public func swigluBackward(dinput: BufferView, dout: BufferView, input: BufferView, rows: Int, hidden: Int) throws {
        throw pending(.swigluBackward)
    }
    public func dropoutForward(out: BufferView, input: BufferView, probability: Float, seed: UInt64) throws {
        throw pending(.dropoutForward)
    }
    public func dropoutBackward(dinput: BufferView, dout: BufferView, probability: Float, seed: UInt64) throws {
        throw pending(.dropoutBackward)
    }
    public func ropeForward(_ x: BufferView, rows: Int, sequenceLength: Int, rowStride: Int,
                            heads: Int, headDim: Int, theta: Float, positionOffset: Int) throws {
        throw pending(.ropeForward)
    }
    public func ropeBackward(_ dx: BufferView, rows: Int, sequenceLength: Int, rowStride: Int,
                             heads: Int, headDim: Int, theta: Float, positionOffset: Int) throws {
        throw pending(.ropeBackward)
    }
    public func attentionForward(out: BufferView, logsumexp: BufferView, qkv: BufferView,
                                 batch: Int, sequenceLength: Int, heads: Int, headDim: Int) throws {
        throw pending(.attentionForward)
    }
    public func attentionBackward(dqkv: BufferView, dout: BufferView, qkv: BufferView, out: BufferView,
                                  logsumexp: BufferView, batch: Int, sequenceLength: Int,
                                  heads: Int, headDim: Int) throws {
        throw pending(.attentionBackward)
    }
    public func softmaxForward(out: BufferView, input: BufferView, rows: Int, cols: Int) throws {
        throw pending(.softmaxForward)
    }
    public func softmaxBackward(dinput: BufferView, dout: BufferView, out: BufferView, rows: Int, cols: Int) throws {
        throw pending(.softmaxBackward)
    }
    public func crossEntropyForward(losses: BufferView, dlogits: BufferView?, logits: BufferView,
                                    targets: BufferView, rows: Int, vocabulary: Int, gradientScale: Float) throws {
        throw pending(.crossEntropyForward)
    }
}
