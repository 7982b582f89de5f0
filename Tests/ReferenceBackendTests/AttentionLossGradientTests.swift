// Finite-difference checks for attention, RoPE, softmax, cross-entropy, embedding and matmul backward
// (see NormActivationGradientTests for the method and TestSupport for the tolerance).

import Compute
import ReferenceBackend
import Testing

/// An attention call's sizes; qkv rows are (NH + 2·KVH, hs): query heads, then keys, then values.
struct AttentionShape: CustomStringConvertible, Sendable {
    let batch: Int, sequenceLength: Int, heads: Int, kvHeads: Int, headDim: Int
    init(batch: Int, sequenceLength: Int, heads: Int, kvHeads: Int? = nil, headDim: Int) {
        (self.batch, self.sequenceLength, self.heads, self.kvHeads, self.headDim) =
            (batch, sequenceLength, heads, kvHeads ?? heads, headDim)
    }
    var channels: Int { heads * headDim }
    var rowWidth: Int { (heads + 2 * kvHeads) * headDim }
    /// Offsets in a qkv row: query head h; key and value of the KV head that query head h reads.
    func query(_ h: Int) -> Int { h * headDim }
    func key(_ h: Int) -> Int { channels + h / (heads / kvHeads) * headDim }
    func value(_ h: Int) -> Int { channels + (kvHeads + h / (heads / kvHeads)) * headDim }
    var description: String { "B=\(batch) T=\(sequenceLength) NH=\(heads) KVH=\(kvHeads) hs=\(headDim)" }
    /// Ungrouped, then grouped-query (groups of 2 and 3) and multi-query shapes.
    static let small = [AttentionShape(batch: 1, sequenceLength: 1, heads: 1, headDim: 3),
                        AttentionShape(batch: 2, sequenceLength: 5, heads: 2, headDim: 4),
                        AttentionShape(batch: 1, sequenceLength: 17, heads: 3, headDim: 2),
                        AttentionShape(batch: 2, sequenceLength: 5, heads: 4, kvHeads: 2, headDim: 4),
                        AttentionShape(batch: 1, sequenceLength: 7, heads: 6, kvHeads: 2, headDim: 2),
                        AttentionShape(batch: 2, sequenceLength: 6, heads: 3, kvHeads: 1, headDim: 3)]
}

@Suite("Reference gradients: attention, positions, losses, matmul")
struct AttentionLossGradientTests {
    @Test("attention backward (dq, dk, dv through dqkv)", arguments: AttentionShape.small)
    func attention(_ shape: AttentionShape) throws {
        var f = Fixture(seed: 31)
        let backend = f.backend
        let (B, T, NH, KVH, hs) = (shape.batch, shape.sequenceLength, shape.heads, shape.kvHeads, shape.headDim)
        let (C, W) = (shape.channels, shape.rowWidth)
        let qkv = f.normal(B * T * W), r = f.normal(B * T * C)
        let context = "attentionBackward \(shape) seed \(f.seed)"
        let out = try backend.allocate(B * T * C, .float32), lse = try backend.allocate(B * NH * T, .float32)
        func forward(_ qkv: [Float]) throws -> [Float] {
            try backend.attentionForward(out: out.all, logsumexp: lse.all, qkv: backend.makeBuffer(qkv).all,
                                         batch: B, sequenceLength: T, heads: NH, kvHeads: KVH, headDim: hs)
            return try backend.download(out.all)
        }
        _ = try forward(qkv)
        let dqkv = try backend.makeBuffer([Float](repeating: 7, count: qkv.count))  // overwritten
        try backend.attentionBackward(dqkv: dqkv.all, dout: backend.makeBuffer(r).all, qkv: backend.makeBuffer(qkv).all,
                                      out: out.all, logsumexp: lse.all, batch: B, sequenceLength: T,
                                      heads: NH, kvHeads: KVH, headDim: hs)
        let analytic = try f.read(dqkv)
        // Sample q, k and v separately so each part is always covered (with grouping, a k or v
        // element's gradient sums over every query head of its group).
        let parts = [0..<C, C..<(C + KVH * hs), (C + KVH * hs)..<W]
        for (part, name) in ["q", "k", "v"].enumerated() {
            let indices = qkv.indices.filter { parts[part].contains($0 % W) }
            let chosen = f.sample(indices.count, limit: 20).map { indices[$0] }
            try expectGradient(context, input: name, values: qkv, analytic: analytic, indices: chosen) {
                try weightedSum(forward($0), r)
            }
        }
    }

    @Test("rope backward is the gradient of rope forward", arguments: [1, 4])
    func rope(positionOffset: Int) throws {
        var f = Fixture(seed: 32)
        let backend = f.backend
        // A (B=2, T=3, 3C) qkv buffer with NH=2, hs=6: rotate q and k (heads = 4), leave v.
        let (rows, T, hs, heads) = (6, 3, 6, 4)
        let stride = 3 * 2 * hs
        let x = f.normal(rows * stride), r = f.normal(rows * stride)
        let context = "ropeBackward rows=\(rows) T=\(T) heads=\(heads) hs=\(hs) offset=\(positionOffset) seed \(f.seed)"
        func forward(_ x: [Float]) throws -> [Float] {
            let buffer = try backend.makeBuffer(x)
            try backend.ropeForward(buffer.all, rows: rows, sequenceLength: T, rowStride: stride, heads: heads,
                                    headDim: hs, theta: 100, positionOffset: positionOffset)
            return try backend.download(buffer.all)
        }
        let gradient = try backend.makeBuffer(r)
        try backend.ropeBackward(gradient.all, rows: rows, sequenceLength: T, rowStride: stride, heads: heads,
                                 headDim: hs, theta: 100, positionOffset: positionOffset)
        try expectGradient(context, input: "x", values: x, analytic: try f.read(gradient),
                           indices: f.sample(x.count)) { try weightedSum(forward($0), r) }
    }

    @Test("softmax backward", arguments: RowsCols.small)
    func softmax(_ shape: RowsCols) throws {
        var f = Fixture(seed: 33)
        let backend = f.backend, (n, c) = (shape.rows, shape.cols)
        let x = f.normal(n * c, scale: 2), r = f.normal(n * c)
        let context = "softmaxBackward \(shape) seed \(f.seed)"
        func forward(_ x: [Float]) throws -> [Float] {
            let out = try backend.allocate(n * c, .float32)
            try backend.softmaxForward(out: out.all, input: backend.makeBuffer(x).all, rows: n, cols: c)
            return try backend.download(out.all)
        }
        let dx = try backend.makeBuffer([Float](repeating: 7, count: x.count))
        try backend.softmaxBackward(dinput: dx.all, dout: backend.makeBuffer(r).all,
                                    out: backend.makeBuffer(forward(x)).all, rows: n, cols: c)
        try expectGradient(context, input: "input", values: x, analytic: try f.read(dx),
                           indices: f.sample(x.count)) { try weightedSum(forward($0), r) }
    }

    @Test("cross-entropy dlogits, including an ignored -1 target", arguments: RowsCols.small)
    func crossEntropy(_ shape: RowsCols) throws {
        var f = Fixture(seed: 34)
        let backend = f.backend, (n, V) = (shape.rows + 1, shape.cols)
        let logits = f.normal(n * V, scale: 2)
        // The last row is ignored; the others have random targets.
        let targets: [Int32] = (0..<n).map { $0 == n - 1 ? -1 : Int32(f.rng.next() % UInt64(V)) }
        let gradientScale: Float = 0.37
        let context = "crossEntropyForward N=\(n) V=\(V) seed \(f.seed)"
        let targetBuffer = try backend.makeBuffer(targets)
        func lossesOf(_ logits: [Float]) throws -> [Float] {
            let losses = try backend.allocate(n, .float32)
            try backend.crossEntropyForward(losses: losses.all, dlogits: nil, logits: backend.makeBuffer(logits).all,
                                            targets: targetBuffer.all, rows: n, vocabulary: V, gradientScale: 1)
            return try backend.download(losses.all)
        }
        let losses = try backend.allocate(n, .float32)
        let dlogits = try backend.makeBuffer([Float](repeating: 7, count: logits.count))
        try backend.crossEntropyForward(losses: losses.all, dlogits: dlogits.all, logits: backend.makeBuffer(logits).all,
                                        targets: targetBuffer.all, rows: n, vocabulary: V, gradientScale: gradientScale)
        let analytic = try f.read(dlogits)
        let scale = [Float](repeating: gradientScale, count: n)
        try expectGradient(context, input: "logits", values: logits, analytic: analytic,
                           indices: f.sample(logits.count)) { try weightedSum(lossesOf($0), scale) }
        #expect(analytic[((n - 1) * V)...].allSatisfy { $0 == 0 }, "\(context): ignored row has nonzero dlogits")
        #expect(try f.read(losses)[n - 1] == 0, "\(context): ignored row has nonzero loss")
    }

    @Test("embedding backward with repeated tokens", arguments: [1, 12, 65])
    func embedding(count: Int) throws {
        var f = Fixture(seed: 35)
        let backend = f.backend, (V, dim) = (7, 5)
        let tokens: [Int32] = (0..<count).map { _ in Int32(f.rng.next() % 5) }  // tokens 5, 6 unused
        let table = f.normal(V * dim), r = f.normal(count * dim)
        let context = "embeddingBackward N=\(count) V=\(V) C=\(dim) seed \(f.seed)"
        let tokenBuffer = try backend.makeBuffer(tokens)
        func forward(_ table: [Float]) throws -> [Float] {
            let out = try backend.allocate(count * dim, .float32)
            try backend.embeddingForward(out: out.all, table: backend.makeBuffer(table).all, tokens: tokenBuffer.all,
                                         count: count, dim: dim)
            return try backend.download(out.all)
        }
        let dtable0 = f.normal(V * dim), dtable = try backend.makeBuffer(dtable0)
        try backend.embeddingBackward(dtable: dtable.all, dout: backend.makeBuffer(r).all, tokens: tokenBuffer.all,
                                      count: count, dim: dim)
        try expectGradient(context, input: "table", values: table, analytic: difference(try f.read(dtable), dtable0),
                           indices: Array(table.indices)) { try weightedSum(forward($0), r) }
    }

    @Test("matmul: dA and dB from transposed matmuls are the gradients", arguments: MatmulCase.all.prefix(12))
    func matmul(_ shape: MatmulCase) throws {
        var f = Fixture(seed: 36)
        let backend = f.backend, (m, n, k) = (shape.m, shape.n, shape.k)
        let (tA, tB) = (shape.transposeA, shape.transposeB)
        let a = f.normal(m * k), b = f.normal(k * n), r = f.normal(m * n)
        let context = "matmul backward \(shape) seed \(f.seed)"
        func forward(_ a: [Float], _ b: [Float]) throws -> [Float] {
            let c = try backend.allocate(m * n, .float32)
            try backend.matmul(c: c.all, a: backend.makeBuffer(a).all, b: backend.makeBuffer(b).all,
                               m: m, n: n, k: k, transposeA: tA, transposeB: tB)
            return try backend.download(c.all)
        }
        let aBuffer = try backend.makeBuffer(a), bBuffer = try backend.makeBuffer(b), dout = try backend.makeBuffer(r)
        let da0 = f.normal(a.count), db0 = f.normal(b.count)
        let da = try backend.makeBuffer(da0), db = try backend.makeBuffer(db0)
        // d op(A) = R op(B)^T and d op(B) = op(A)^T R, stored in A's and B's own layouts; beta 1
        // accumulates, as a linear layer's weight gradient does.
        if tA {
            try backend.matmul(c: da.all, a: bBuffer.all, b: dout.all, m: k, n: m, k: n,
                               transposeA: tB, transposeB: true, alpha: 1, beta: 1)
        } else {
            try backend.matmul(c: da.all, a: dout.all, b: bBuffer.all, m: m, n: k, k: n,
                               transposeA: false, transposeB: !tB, alpha: 1, beta: 1)
        }
        if tB {
            try backend.matmul(c: db.all, a: dout.all, b: aBuffer.all, m: n, n: k, k: m,
                               transposeA: true, transposeB: tA, alpha: 1, beta: 1)
        } else {
            try backend.matmul(c: db.all, a: aBuffer.all, b: dout.all, m: k, n: n, k: m,
                               transposeA: !tA, transposeB: false, alpha: 1, beta: 1)
        }
        try expectGradient(context, input: "A", values: a, analytic: difference(try f.read(da), da0),
                           indices: f.sample(a.count)) { try weightedSum(forward($0, b), r) }
        try expectGradient(context, input: "B", values: b, analytic: difference(try f.read(db), db0),
                           indices: f.sample(b.count)) { try weightedSum(forward(a, $0), r) }
    }
}
