// A backend that forwards every op to the reference backend except one deliberately broken behaviour,
// so the harness tests can prove each bug class is caught (and that a faithful wrapper passes).
// `ForwardingBackend` forwards everything this type does not implement, so adding an op to the
// protocol needs no change here.

import Compute
import ReferenceBackend

final class FaultyBackend: ForwardingBackend {
    enum Fault: String, Sendable, CaseIterable {
        case none
        /// scale writes one element past the end of its view.
        case writesPastEnd
        /// add writes its result one element before the start of `out`.
        case writesBeforeStart
        /// matmul's first element is off by 1e-3 of the result's largest magnitude (relative to the
        /// element itself the error could be arbitrarily small, and so pass by the luck of a seed).
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

    let forwardee: any Backend = ReferenceBackend()
    let fault: Fault
    var profiler: Profiler?

    init(_ fault: Fault) { self.fault = fault }

    var name: String { "faulty-\(fault.rawValue)" }

    func supports(_ op: Op) -> Support {
        if fault == .unsupportedAttention, op == .attentionForward || op == .attentionBackward {
            return .unsupported(reason: "test fault")
        }
        return forwardee.supports(op)
    }

    func uncheckedMatmul(c: BufferView, a: BufferView, b: BufferView, m: Int, n: Int, k: Int, transposeA: Bool,
                         transposeB: Bool, alpha: Float, beta: Float, batch: Int, strideA: Int, strideB: Int,
                         strideC: Int) throws {
        try forwardee.uncheckedMatmul(c: c, a: a, b: b, m: m, n: n, k: k, transposeA: transposeA,
                                      transposeB: transposeB, alpha: alpha, beta: beta, batch: batch,
                                      strideA: strideA, strideB: strideB, strideC: strideC)
        if fault == .perturbsOneElement {
            let values = try forwardee.download(c)
            let largest = values.map(abs).max() ?? 0
            try forwardee.upload([values[0] + 1e-3 * largest], to: c.view(offset: 0, count: 1))
        }
    }

    func uncheckedAdd(out: BufferView, a: BufferView, b: BufferView) throws {
        guard fault == .writesBeforeStart else { return try forwardee.uncheckedAdd(out: out, a: a, b: b) }
        let shifted = BufferView(buffer: out.buffer, offset: out.offset - 1, count: out.count)
        try forwardee.uncheckedAdd(out: shifted, a: a, b: b)
    }

    func uncheckedScale(_ x: BufferView, by alpha: Float) throws {
        guard fault == .writesPastEnd else { return try forwardee.uncheckedScale(x, by: alpha) }
        try forwardee.uncheckedScale(BufferView(buffer: x.buffer, offset: x.offset, count: x.count + 1), by: alpha)
    }

    func uncheckedGeluForward(out: BufferView, input: BufferView) throws {
        guard fault == .accumulatesInsteadOfOverwriting else {
            return try forwardee.uncheckedGeluForward(out: out, input: input)
        }
        let old = try forwardee.download(out)
        try forwardee.uncheckedGeluForward(out: out, input: input)
        try forwardee.upload(zip(old, try forwardee.download(out)).map { $0 + $1 }, to: out)
    }

    func uncheckedReluForward(out: BufferView, input: BufferView) throws {
        try forwardee.uncheckedReluForward(out: out, input: input)
        if fault == .modifiesInput, !out.overlaps(input) { try forwardee.fill(input, with: 0) }
    }

    func uncheckedDropout(out: BufferView, input: BufferView, probability: Float, seed: UInt64,
                          firstIndex: Int) throws {
        try forwardee.uncheckedDropout(out: out, input: input, probability: probability,
                                       seed: fault == .wrongDropoutMask ? seed &+ 1 : seed, firstIndex: firstIndex)
    }

    func uncheckedSoftmaxForward(out: BufferView, input: BufferView, rows: Int, cols: Int) throws {
        try forwardee.uncheckedSoftmaxForward(out: out, input: input, rows: rows, cols: cols)
        if fault == .swallowsNaN {
            try forwardee.upload(try forwardee.download(out).map { $0.isNaN ? 0 : $0 }, to: out)
        }
    }
}
