// A backend that forwards every op to the reference backend except one deliberately broken behaviour,
// so the harness tests can prove each kind of bug is caught (and that a faithful wrapper passes).

import Compute
import ReferenceBackend

final class FaultyBackend: Backend {
    enum Fault: String, Sendable, CaseIterable {
        case none
        /// scale writes one element past the end of its view.
        case writesPastEnd
        /// add writes its result one element before the start of `out`.
        case writesBeforeStart
        /// matmul's result is off by 1e-3 relative in one element.
        case perturbsOneElement
        /// geluForward accumulates into `out` instead of overwriting it.
        case accumulatesInsteadOfOverwriting
        /// dropout draws its mask from seed + 1.
        case wrongDropoutMask
        /// reluForward zeroes its input afterwards.
        case modifiesInput
        /// says attention is unsupported.
        case unsupportedAttention
        /// softmax turns a NaN input into zeros.
        case swallowsNaN
    }

    let inner = ReferenceBackend()
    let fault: Fault
    var profiler: Profiler?

    init(_ fault: Fault) { self.fault = fault }

    var name: String { "faulty-\(fault.rawValue)" }
    var deviceDescription: String { inner.deviceDescription }

    func supports(_ op: Op) -> Support {
        if fault == .unsupportedAttention, op == .attentionForward || op == .attentionBackward {
            return .unsupported(reason: "test fault")
        }
        return .supported
    }

    func allocate(_ count: Int, _ dtype: DType) throws -> Buffer { try inner.allocate(count, dtype) }
    func upload(_ values: [Float], to view: BufferView) throws { try inner.upload(values, to: view) }
    func upload(_ values: [Int32], to view: BufferView) throws { try inner.upload(values, to: view) }
    func download(_ view: BufferView) throws -> [Float] { try inner.download(view) }
    func downloadInt32(_ view: BufferView) throws -> [Int32] { try inner.downloadInt32(view) }
    func copy(from source: BufferView, to destination: BufferView) throws { try inner.copy(from: source, to: destination) }
    func fill(_ view: BufferView, with value: Float) throws { try inner.fill(view, with: value) }
    func synchronize() throws {}

    func matmul(c: BufferView, a: BufferView, b: BufferView, m: Int, n: Int, k: Int, transposeA: Bool,
                transposeB: Bool, alpha: Float, beta: Float, batch: Int, strideA: Int, strideB: Int,
                strideC: Int) throws {
        try inner.matmul(c: c, a: a, b: b, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                         alpha: alpha, beta: beta, batch: batch, strideA: strideA, strideB: strideB, strideC: strideC)
        if fault == .perturbsOneElement {
            let first = c.view(offset: 0, count: 1)
            try inner.upload([try inner.download(first)[0] * 1.001], to: first)
        }
    }

    func add(out: BufferView, a: BufferView, b: BufferView) throws {
        guard fault == .writesBeforeStart else { return try inner.add(out: out, a: a, b: b) }
        let shifted = BufferView(buffer: out.buffer, offset: out.offset - 1, count: out.count)
        try inner.add(out: shifted, a: a, b: b)
    }

    func addScaled(into y: BufferView, _ x: BufferView, alpha: Float) throws { try inner.addScaled(into: y, x, alpha: alpha) }

    func scale(_ x: BufferView, by alpha: Float) throws {
        guard fault == .writesPastEnd else { return try inner.scale(x, by: alpha) }
        try inner.scale(BufferView(buffer: x.buffer, offset: x.offset, count: x.count + 1), by: alpha)
    }

    func addBias(out: BufferView, bias: BufferView, rows: Int, cols: Int) throws {
        try inner.addBias(out: out, bias: bias, rows: rows, cols: cols)
    }

    func biasBackward(dbias: BufferView, dout: BufferView, rows: Int, cols: Int) throws {
        try inner.biasBackward(dbias: dbias, dout: dout, rows: rows, cols: cols)
    }

    func embeddingForward(out: BufferView, table: BufferView, tokens: BufferView, count: Int, dim: Int) throws {
        try inner.embeddingForward(out: out, table: table, tokens: tokens, count: count, dim: dim)
    }

    func embeddingBackward(dtable: BufferView, dout: BufferView, tokens: BufferView, count: Int, dim: Int) throws {
        try inner.embeddingBackward(dtable: dtable, dout: dout, tokens: tokens, count: count, dim: dim)
    }

    func layerNormForward(out: BufferView, mean: BufferView, rstd: BufferView, input: BufferView, weight: BufferView,
                          bias: BufferView?, rows: Int, cols: Int, epsilon: Float) throws {
        try inner.layerNormForward(out: out, mean: mean, rstd: rstd, input: input, weight: weight, bias: bias,
                                   rows: rows, cols: cols, epsilon: epsilon)
    }

    func layerNormBackward(dinput: BufferView, dweight: BufferView, dbias: BufferView?, dout: BufferView,
                           input: BufferView, weight: BufferView, mean: BufferView, rstd: BufferView,
                           rows: Int, cols: Int) throws {
        try inner.layerNormBackward(dinput: dinput, dweight: dweight, dbias: dbias, dout: dout, input: input,
                                    weight: weight, mean: mean, rstd: rstd, rows: rows, cols: cols)
    }

    func rmsNormForward(out: BufferView, rstd: BufferView, input: BufferView, weight: BufferView, rows: Int,
                        cols: Int, epsilon: Float) throws {
        try inner.rmsNormForward(out: out, rstd: rstd, input: input, weight: weight, rows: rows, cols: cols,
                                 epsilon: epsilon)
    }

    func rmsNormBackward(dinput: BufferView, dweight: BufferView, dout: BufferView, input: BufferView,
                         weight: BufferView, rstd: BufferView, rows: Int, cols: Int) throws {
        try inner.rmsNormBackward(dinput: dinput, dweight: dweight, dout: dout, input: input, weight: weight,
                                  rstd: rstd, rows: rows, cols: cols)
    }

    func geluForward(out: BufferView, input: BufferView) throws {
        guard fault == .accumulatesInsteadOfOverwriting else { return try inner.geluForward(out: out, input: input) }
        let old = try inner.download(out)
        try inner.geluForward(out: out, input: input)
        try inner.upload(zip(old, try inner.download(out)).map { $0 + $1 }, to: out)
    }

    func geluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        try inner.geluBackward(dinput: dinput, dout: dout, input: input)
    }

    func reluForward(out: BufferView, input: BufferView) throws {
        try inner.reluForward(out: out, input: input)
        if fault == .modifiesInput, !out.overlaps(input) { try inner.fill(input, with: 0) }
    }

    func reluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        try inner.reluBackward(dinput: dinput, dout: dout, input: input)
    }

    func swigluForward(out: BufferView, input: BufferView, rows: Int, hidden: Int) throws {
        try inner.swigluForward(out: out, input: input, rows: rows, hidden: hidden)
    }

    func swigluBackward(dinput: BufferView, dout: BufferView, input: BufferView, rows: Int, hidden: Int) throws {
        try inner.swigluBackward(dinput: dinput, dout: dout, input: input, rows: rows, hidden: hidden)
    }

    func dropoutForward(out: BufferView, input: BufferView, probability: Float, seed: UInt64) throws {
        try inner.dropoutForward(out: out, input: input, probability: probability,
                                 seed: fault == .wrongDropoutMask ? seed &+ 1 : seed)
    }

    func dropoutBackward(dinput: BufferView, dout: BufferView, probability: Float, seed: UInt64) throws {
        try inner.dropoutBackward(dinput: dinput, dout: dout, probability: probability,
                                  seed: fault == .wrongDropoutMask ? seed &+ 1 : seed)
    }

    func ropeForward(_ x: BufferView, rows: Int, sequenceLength: Int, rowStride: Int, heads: Int, headDim: Int,
                     theta: Float, positionOffset: Int) throws {
        try inner.ropeForward(x, rows: rows, sequenceLength: sequenceLength, rowStride: rowStride, heads: heads,
                              headDim: headDim, theta: theta, positionOffset: positionOffset)
    }

    func ropeBackward(_ dx: BufferView, rows: Int, sequenceLength: Int, rowStride: Int, heads: Int, headDim: Int,
                      theta: Float, positionOffset: Int) throws {
        try inner.ropeBackward(dx, rows: rows, sequenceLength: sequenceLength, rowStride: rowStride, heads: heads,
                               headDim: headDim, theta: theta, positionOffset: positionOffset)
    }

    func attentionForward(out: BufferView, logsumexp: BufferView, qkv: BufferView, batch: Int, sequenceLength: Int,
                          heads: Int, headDim: Int) throws {
        try inner.attentionForward(out: out, logsumexp: logsumexp, qkv: qkv, batch: batch,
                                   sequenceLength: sequenceLength, heads: heads, headDim: headDim)
    }

    func attentionBackward(dqkv: BufferView, dout: BufferView, qkv: BufferView, out: BufferView, logsumexp: BufferView,
                           batch: Int, sequenceLength: Int, heads: Int, headDim: Int) throws {
        try inner.attentionBackward(dqkv: dqkv, dout: dout, qkv: qkv, out: out, logsumexp: logsumexp, batch: batch,
                                    sequenceLength: sequenceLength, heads: heads, headDim: headDim)
    }

    func softmaxForward(out: BufferView, input: BufferView, rows: Int, cols: Int) throws {
        try inner.softmaxForward(out: out, input: input, rows: rows, cols: cols)
        if fault == .swallowsNaN {
            try inner.upload(try inner.download(out).map { $0.isNaN ? 0 : $0 }, to: out)
        }
    }

    func softmaxBackward(dinput: BufferView, dout: BufferView, out: BufferView, rows: Int, cols: Int) throws {
        try inner.softmaxBackward(dinput: dinput, dout: dout, out: out, rows: rows, cols: cols)
    }

    func crossEntropyForward(losses: BufferView, dlogits: BufferView?, logits: BufferView, targets: BufferView,
                             rows: Int, vocabulary: Int, gradientScale: Float) throws {
        try inner.crossEntropyForward(losses: losses, dlogits: dlogits, logits: logits, targets: targets, rows: rows,
                                      vocabulary: vocabulary, gradientScale: gradientScale)
    }

    func adamW(parameters: BufferView, gradients: BufferView, firstMoment: BufferView, secondMoment: BufferView,
               learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, step: Int,
               gradientScale: Float) throws {
        try inner.adamW(parameters: parameters, gradients: gradients, firstMoment: firstMoment,
                        secondMoment: secondMoment, learningRate: learningRate, beta1: beta1, beta2: beta2,
                        epsilon: epsilon, weightDecay: weightDecay, step: step, gradientScale: gradientScale)
    }

    func squaredNorm(result: BufferView, input: BufferView) throws { try inner.squaredNorm(result: result, input: input) }
}
