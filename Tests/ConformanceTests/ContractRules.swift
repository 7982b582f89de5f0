// The checked rules of the op contract (Sources/Compute/Contract), one case each, run on every
// available backend by ContractTests. Each failing case names the op its one-line error must start
// with and the kind of error; the cases marked "drift" are behaviours the backends used to disagree
// on before the contract moved into Compute (BLAS rope demanded a full view; OpenCL never checked
// dtypes on elementwise, bias and norm ops, so the failure surfaced as op "launch").

import Compute

/// The kind of `BackendError` a rule expects.
enum ErrorKind: String, Sendable {
    case wrongBuffer, shapeMismatch, invalidArgument, unsupported

    init?(_ error: BackendError) {
        switch error {
        case .wrongBuffer: self = .wrongBuffer
        case .shapeMismatch: self = .shapeMismatch
        case .invalidArgument: self = .invalidArgument
        case .unsupported: self = .unsupported
        default: return nil
        }
    }
}

/// A buffer no backend allocated: every backend must refuse views of it.
final class UnownedBuffer: Buffer {
    init(count: Int, dtype: DType = .float32) { super.init(count: count, dtype: dtype, backendName: "elsewhere") }
}

/// Views on the backend under test.
struct Views {
    let backend: any Backend

    /// A float32 view of `count` elements, every one `value`.
    func floats(_ count: Int, _ value: Float = 0.5) throws -> BufferView {
        try backend.makeBuffer([Float](repeating: value, count: count)).all
    }

    /// An int32 view holding `values`.
    func ints(_ values: [Int32]) throws -> BufferView { try backend.makeBuffer(values).all }

    /// An int32 view of `count` zeros.
    func ints(_ count: Int) throws -> BufferView { try ints([Int32](repeating: 0, count: count)) }
}

/// One rule: what a call must do on every backend.
struct ContractRule: Sendable {
    enum Outcome: Sendable {
        /// Throws `kind`, with a one-line message that starts with "op:".
        case fails(ErrorKind, op: String)
        /// As `fails`, on backends that hold int32 views in host memory (`hostInt32s`); GPU
        /// backends leave token and target ranges to the model, which checks them before upload.
        case failsWhereHostReadsValues(ErrorKind, op: String)
        /// Runs without throwing; the body checks the results itself.
        case succeeds
    }

    let name: String
    let outcome: Outcome
    let body: @Sendable (Views) throws -> Void

    static func fails(_ name: String, _ kind: ErrorKind, _ op: String,
                      _ body: @escaping @Sendable (Views) throws -> Void) -> ContractRule {
        ContractRule(name: name, outcome: .fails(kind, op: op), body: body)
    }
}

extension ContractRule {
    static let all = ownership + dtypes + counts + sizes + aliasing + values + accepted

    static let ownership: [ContractRule] = [
        .fails("add with a view no backend owns", .wrongBuffer, "add") { v in
            try v.backend.add(out: v.floats(4), a: v.floats(4), b: UnownedBuffer(count: 4).all)
        },
        .fails("fill of a view no backend owns", .wrongBuffer, "fill") { v in
            try v.backend.fill(UnownedBuffer(count: 4).all, with: 0)
        },
        .fails("copy from a view no backend owns", .wrongBuffer, "copy") { v in
            try v.backend.copy(from: UnownedBuffer(count: 4).all, to: v.floats(4))
        },
        .fails("download of a view no backend owns", .wrongBuffer, "download") { v in
            _ = try v.backend.download(UnownedBuffer(count: 4).all)
        },
    ]

    static let dtypes: [ContractRule] = [
        .fails("drift: add with an int32 operand", .wrongBuffer, "add") { v in
            try v.backend.add(out: v.floats(4), a: v.floats(4), b: v.ints(4))
        },
        .fails("drift: addScaled with an int32 x", .wrongBuffer, "addScaled") { v in
            try v.backend.addScaled(into: v.floats(4), v.ints(4), alpha: 2)
        },
        .fails("drift: scale of an int32 view", .wrongBuffer, "scale") { v in try v.backend.scale(v.ints(4), by: 2) },
        .fails("drift: addBias with an int32 bias", .wrongBuffer, "addBias") { v in
            try v.backend.addBias(out: v.floats(6), bias: v.ints(3), rows: 2, cols: 3)
        },
        .fails("drift: layerNormForward with an int32 weight", .wrongBuffer, "layerNormForward") { v in
            try v.backend.layerNormForward(out: v.floats(6), mean: v.floats(2), rstd: v.floats(2), input: v.floats(6),
                                           weight: v.ints(3), bias: nil, rows: 2, cols: 3, epsilon: 1e-5)
        },
        .fails("drift: layerNormBackward with an int32 dout", .wrongBuffer, "layerNormBackward") { v in
            try v.backend.layerNormBackward(dinput: v.floats(6), dweight: v.floats(3), dbias: nil, dout: v.ints(6),
                                            input: v.floats(6), weight: v.floats(3), mean: v.floats(2),
                                            rstd: v.floats(2), rows: 2, cols: 3)
        },
        .fails("drift: rmsNormForward with an int32 input", .wrongBuffer, "rmsNormForward") { v in
            try v.backend.rmsNormForward(out: v.floats(6), rstd: v.floats(2), input: v.ints(6), weight: v.floats(3),
                                         rows: 2, cols: 3, epsilon: 1e-5)
        },
        .fails("drift: rmsNormBackward with an int32 rstd", .wrongBuffer, "rmsNormBackward") { v in
            try v.backend.rmsNormBackward(dinput: v.floats(6), dweight: v.floats(3), dout: v.floats(6),
                                          input: v.floats(6), weight: v.floats(3), rstd: v.ints(2), rows: 2, cols: 3)
        },
        .fails("geluForward of an int32 input", .wrongBuffer, "geluForward") { v in
            try v.backend.geluForward(out: v.floats(4), input: v.ints(4))
        },
        .fails("embeddingForward with float32 tokens", .wrongBuffer, "embeddingForward") { v in
            try v.backend.embeddingForward(out: v.floats(6), table: v.floats(9), tokens: v.floats(2), count: 2, dim: 3)
        },
        .fails("crossEntropyForward with float32 targets", .wrongBuffer, "crossEntropyForward") { v in
            try v.backend.crossEntropyForward(losses: v.floats(2), dlogits: nil, logits: v.floats(10),
                                              targets: v.floats(2), rows: 2, vocabulary: 5, gradientScale: 1)
        },
        .fails("download of an int32 view as float32", .wrongBuffer, "download") { v in
            _ = try v.backend.download(v.ints(3))
        },
        .fails("copy from int32 into float32", .wrongBuffer, "copy") { v in
            try v.backend.copy(from: v.ints(3), to: v.floats(3))
        },
    ]

    static let counts: [ContractRule] = [
        .fails("add with a shorter b", .shapeMismatch, "add") { v in
            try v.backend.add(out: v.floats(6), a: v.floats(6), b: v.floats(5))
        },
        .fails("upload of fewer values than the view holds", .shapeMismatch, "upload") { v in
            try v.backend.upload([1, 2] as [Float], to: v.floats(3))
        },
        .fails("copy into a longer view", .shapeMismatch, "copy") { v in
            try v.backend.copy(from: v.floats(3), to: v.floats(4))
        },
        .fails("biasBackward with a dbias of the wrong size", .shapeMismatch, "biasBackward") { v in
            try v.backend.biasBackward(dbias: v.floats(2), dout: v.floats(6), rows: 2, cols: 3)
        },
        .fails("layerNormForward with an input of the wrong size", .shapeMismatch, "layerNormForward") { v in
            try v.backend.layerNormForward(out: v.floats(6), mean: v.floats(2), rstd: v.floats(2), input: v.floats(5),
                                           weight: v.floats(3), bias: nil, rows: 2, cols: 3, epsilon: 1e-5)
        },
        .fails("swigluForward with an input of N×F instead of N×2F", .shapeMismatch, "swigluForward") { v in
            try v.backend.swigluForward(out: v.floats(6), input: v.floats(6), rows: 2, hidden: 3)
        },
        .fails("softmaxForward with an out of the wrong size", .shapeMismatch, "softmaxForward") { v in
            try v.backend.softmaxForward(out: v.floats(5), input: v.floats(6), rows: 2, cols: 3)
        },
        .fails("attentionForward with a qkv of (B, T, C)", .shapeMismatch, "attentionForward") { v in
            try v.backend.attentionForward(out: v.floats(8), logsumexp: v.floats(2), qkv: v.floats(8), batch: 1,
                                           sequenceLength: 2, heads: 1, kvHeads: 1, headDim: 4)
        },
        .fails("attentionForward with a qkv of 3·NH heads where KVH < NH", .shapeMismatch, "attentionForward") { v in
            try v.backend.attentionForward(out: v.floats(16), logsumexp: v.floats(4), qkv: v.floats(48), batch: 1,
                                           sequenceLength: 2, heads: 2, kvHeads: 1, headDim: 4)
        },
        .fails("attentionBackward with a dqkv of (B, T, 3C) where KVH < NH", .shapeMismatch, "attentionBackward") { v in
            try v.backend.attentionBackward(dqkv: v.floats(48), dout: v.floats(16), qkv: v.floats(32), out: v.floats(16),
                                            logsumexp: v.floats(4), batch: 1, sequenceLength: 2, heads: 2, kvHeads: 1,
                                            headDim: 4)
        },
        .fails("attentionCachedForward with a cache of whole qkv rows", .shapeMismatch, "attentionCachedForward") { v in
            try v.backend.attentionCachedForward(out: v.floats(8), query: v.floats(8), keysValues: v.floats(24),
                                                 start: 1, queries: 1, heads: 2, kvHeads: 1, headDim: 4)
        },
        .fails("crossEntropyForward with a short dlogits", .shapeMismatch, "crossEntropyForward") { v in
            try v.backend.crossEntropyForward(losses: v.floats(2), dlogits: v.floats(9), logits: v.floats(10),
                                              targets: v.ints(2), rows: 2, vocabulary: 5, gradientScale: 1)
        },
        .fails("adamW with moments of another size", .shapeMismatch, "adamW") { v in
            try v.backend.adamW(parameters: v.floats(6), gradients: v.floats(6), firstMoment: v.floats(5),
                                secondMoment: v.floats(6), learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8,
                                weightDecay: 0, step: 1, gradientScale: 1)
        },
        .fails("squaredNorm into a two-element result", .shapeMismatch, "squaredNorm") { v in
            try v.backend.squaredNorm(result: v.floats(2), input: v.floats(6))
        },
        .fails("matmul with an a too short for its last batch item", .shapeMismatch, "matmul") { v in
            try v.backend.matmul(c: v.floats(8), a: v.floats(11), b: v.floats(6), m: 2, n: 2, k: 3, transposeA: false,
                                 transposeB: false, alpha: 1, beta: 0, batch: 2, strideA: 6, strideB: 0, strideC: 4)
        },
        .fails("ropeForward with a view shorter than the last rotated head", .shapeMismatch, "ropeForward") { v in
            try v.backend.ropeForward(v.floats(11), rows: 2, sequenceLength: 2, rowStride: 8, heads: 1, headDim: 4,
                                      theta: 10_000, positionOffset: 0)
        },
    ]
}
