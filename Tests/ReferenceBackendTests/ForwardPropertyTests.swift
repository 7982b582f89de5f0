// Forward-op properties of the reference backend that gradients cannot see: softmax rows sum to 1,
// attention is causal and matches the unfused composition, dropout masks follow the seed, RoPE
// backward undoes forward, cross-entropy matches a manual log-softmax, squaredNorm matches a Double sum.

import Compute
import ReferenceBackend
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Reference forward properties")
struct ForwardPropertyTests {
    @Test("softmax rows sum to 1", arguments: RowsCols.small)
    func softmaxSumsToOne(_ shape: RowsCols) throws {
        var f = Fixture(seed: 41)
        let x = f.normal(shape.rows * shape.cols, scale: 10)
        let buffer = try f.buffer(x)
        try f.backend.softmaxForward(out: buffer.all, input: buffer.all, rows: shape.rows, cols: shape.cols)  // aliased
        let y = try f.read(buffer)
        for r in 0..<shape.rows {
            let sum = y[(r * shape.cols)..<((r + 1) * shape.cols)].reduce(0.0) { $0 + Double($1) }
            #expect(abs(sum - 1) < 1e-5, "softmaxForward \(shape) seed \(f.seed): row \(r) sums to \(sum)")
        }
        #expect(y.allSatisfy { $0 >= 0 }, "softmaxForward \(shape) seed \(f.seed): negative probability")
    }

    /// scores = Q_h K_gᵀ / sqrt(hs), mask j > t, softmax, times V_g (g the KV head of query head h):
    /// the unfused code in the doc comment.
    func unfusedAttention(_ qkv: [Float], _ s: AttentionShape) -> (out: [Double], lse: [Double]) {
        let (B, T, NH, hs, C, W) = (s.batch, s.sequenceLength, s.heads, s.headDim, s.channels, s.rowWidth)
        var out = [Double](repeating: 0, count: B * T * C), lse = [Double](repeating: 0, count: B * NH * T)
        for b in 0..<B {
            for h in 0..<NH {
                @inline(__always) func q(_ t: Int, _ d: Int) -> Double { Double(qkv[(b * T + t) * W + s.query(h) + d]) }
                @inline(__always) func k(_ t: Int, _ d: Int) -> Double { Double(qkv[(b * T + t) * W + s.key(h) + d]) }
                @inline(__always) func v(_ t: Int, _ d: Int) -> Double { Double(qkv[(b * T + t) * W + s.value(h) + d]) }
                for t in 0..<T {
                    var scores = [Double](repeating: 0, count: t + 1)
                    for j in 0...t {
                        for d in 0..<hs { scores[j] += q(t, d) * k(j, d) }
                        scores[j] /= Double(hs).squareRoot()
                    }
                    let total = scores.reduce(0.0) { $0 + exp($1) }
                    lse[(b * NH + h) * T + t] = log(total)
                    for j in 0...t {
                        let p = exp(scores[j]) / total
                        for d in 0..<hs { out[(b * T + t) * C + h * hs + d] += p * v(j, d) }
                    }
                }
            }
        }
        return (out, lse)
    }

    func runAttention(_ backend: ReferenceBackend, _ qkv: [Float], _ s: AttentionShape) throws -> (out: [Float], lse: [Float]) {
        let out = try backend.allocate(s.batch * s.sequenceLength * s.channels, .float32)
        let lse = try backend.allocate(s.batch * s.heads * s.sequenceLength, .float32)
        try backend.attentionForward(out: out.all, logsumexp: lse.all, qkv: backend.makeBuffer(qkv).all,
                                     batch: s.batch, sequenceLength: s.sequenceLength, heads: s.heads,
                                     kvHeads: s.kvHeads, headDim: s.headDim)
        return (try backend.download(out.all), try backend.download(lse.all))
    }

    @Test("attention matches the unfused composition", arguments: AttentionShape.small)
    func attentionMatchesUnfused(_ shape: AttentionShape) throws {
        var f = Fixture(seed: 42)
        let qkv = f.normal(shape.batch * shape.sequenceLength * shape.rowWidth, scale: 2)
        let (out, lse) = try runAttention(f.backend, qkv, shape)
        let expected = unfusedAttention(qkv, shape)
        #expect(maxRelativeError(out, expected.out) < 1e-6, "attentionForward \(shape) seed \(f.seed): out differs")
        #expect(maxRelativeError(lse, expected.lse) < 1e-6, "attentionForward \(shape) seed \(f.seed): logsumexp differs")
    }

    @Test("KV-cache attention over queries and a K/V-only cache equals the forward's rows",
          arguments: [AttentionShape(batch: 1, sequenceLength: 9, heads: 2, headDim: 3),
                      AttentionShape(batch: 1, sequenceLength: 9, heads: 6, kvHeads: 2, headDim: 4),
                      AttentionShape(batch: 1, sequenceLength: 9, heads: 3, kvHeads: 1, headDim: 2)])
    func cachedEqualsForwardRows(_ shape: AttentionShape) throws {
        var f = Fixture(seed: 45)
        let (T, C, W, KVH, hs) = (shape.sequenceLength, shape.channels, shape.rowWidth, shape.kvHeads, shape.headDim)
        let qkv = f.normal(T * W, scale: 2)
        let full = try runAttention(f.backend, qkv, shape).out
        // The cache is the tail of every qkv row (keys, then values); the queries of rows start..<T.
        let keysValues = (0..<T).flatMap { qkv[($0 * W + C)..<(($0 + 1) * W)] }
        for start in [0, 4, T - 1] {
            let queries = (start..<T).flatMap { qkv[($0 * W)..<($0 * W + C)] }
            let out = try f.backend.allocate((T - start) * C, .float32)
            try f.backend.attentionCachedForward(out: out.all, query: f.backend.makeBuffer(queries).all,
                                                 keysValues: f.backend.makeBuffer(keysValues).all, start: start,
                                                 queries: T - start, heads: shape.heads, kvHeads: KVH, headDim: hs)
            let got = try f.read(out), want = Array(full[(start * C)...])
            #expect(maxRelativeError(got, want.map(Double.init)) < 1e-6,
                    "attentionCachedForward \(shape) start=\(start) seed \(f.seed): rows differ from the forward's")
        }
    }

    @Test("attention is causal: later keys and values do not change earlier outputs",
          arguments: [AttentionShape(batch: 2, sequenceLength: 7, heads: 2, headDim: 3),
                      AttentionShape(batch: 2, sequenceLength: 7, heads: 4, kvHeads: 1, headDim: 3)])
    func attentionIsCausal(_ shape: AttentionShape) throws {
        var f = Fixture(seed: 43)
        let (T, C, W, t) = (shape.sequenceLength, shape.channels, shape.rowWidth, 3)
        let qkv = f.normal(shape.batch * T * W)
        var changed = qkv
        for b in 0..<shape.batch {
            for later in (t + 1)..<T {
                for i in C..<W { changed[(b * T + later) * W + i] += 5 }  // k and v only
            }
        }
        let before = try runAttention(f.backend, qkv, shape).out, after = try runAttention(f.backend, changed, shape).out
        for b in 0..<shape.batch {
            for s in 0..<T {
                let rows = ((b * T + s) * C)..<((b * T + s + 1) * C)
                if s <= t {
                    #expect(before[rows] == after[rows], "attentionForward \(shape) seed \(f.seed): out[b=\(b), t=\(s)] saw the future")
                } else {
                    #expect(before[rows] != after[rows], "attentionForward \(shape) seed \(f.seed): out[b=\(b), t=\(s)] ignored its keys")
                }
            }
        }
    }

    @Test("attention with T = 1 returns the v of each head's KV head", arguments: [(1, 1), (3, 3), (4, 2), (3, 1)])
    func attentionSingleTokenReturnsV(heads: Int, kvHeads: Int) throws {
        var f = Fixture(seed: 44)
        let shape = AttentionShape(batch: 3, sequenceLength: 1, heads: heads, kvHeads: kvHeads, headDim: 5)
        let (C, W, hs) = (shape.channels, shape.rowWidth, shape.headDim)
        let qkv = f.normal(shape.batch * W)
        let out = try runAttention(f.backend, qkv, shape).out
        for b in 0..<shape.batch {
            for h in 0..<heads {
                let v = Array(qkv[(b * W + shape.value(h))..<(b * W + shape.value(h) + hs)])
                #expect(Array(out[(b * C + h * hs)..<(b * C + (h + 1) * hs)]) == v,
                        "attentionForward \(shape) seed \(f.seed): batch \(b) head \(h) is not its v")
            }
        }
    }

    func dropout(_ backend: ReferenceBackend, _ x: [Float], probability: Float, seed: UInt64) throws -> [Float] {
        let buffer = try backend.makeBuffer(x)
        try backend.dropoutForward(out: buffer.all, input: buffer.all, probability: probability, seed: seed)
        return try backend.download(buffer.all)
    }

    @Test("dropout: masks follow the seed, keep rate is 1 - p, kept values are scaled", arguments: [Float(0.1), 0.5])
    func dropoutMask(probability: Float) throws {
        let f = Fixture(seed: 45)
        let count = 100_000
        let ones = [Float](repeating: 1, count: count)
        let first = try dropout(f.backend, ones, probability: probability, seed: 7)
        let again = try dropout(f.backend, ones, probability: probability, seed: 7)
        let other = try dropout(f.backend, ones, probability: probability, seed: 8)
        let context = "dropoutForward n=\(count) p=\(probability)"
        #expect(first == again, "\(context): same seed gave different masks")
        #expect(first != other, "\(context): seeds 7 and 8 gave the same mask")
        let kept = first.filter { $0 != 0 }
        let rate = Double(kept.count) / Double(count)
        // Binomial standard deviation is sqrt(p(1-p)/n) <= 0.0016; allow 5 of them.
        #expect(abs(rate - Double(1 - probability)) < 0.008, "\(context) seed 7: keep rate \(rate)")
        #expect(kept.allSatisfy { $0 == 1 / (1 - probability) }, "\(context) seed 7: kept values not scaled by 1/(1-p)")
        // The mask is the documented counter RNG: element i is kept iff uniform(seed, i) >= p.
        for i in [0, 1, 99_999] {
            let keep = CounterRNG.uniform(seed: 7, index: UInt32(i)) >= probability
            #expect((first[i] != 0) == keep, "\(context) seed 7: element \(i) disagrees with CounterRNG")
        }
    }

    @Test("dropout of a tensor's tail with firstIndex draws the whole tensor's mask there")
    func dropoutFirstIndexContinuesTheMask() throws {
        let f = Fixture(seed: 48)
        let ones = [Float](repeating: 1, count: 1_000), split = 384
        let whole = try dropout(f.backend, ones, probability: 0.5, seed: 11)
        let tail = try f.backend.makeBuffer(Array(ones[split...]))
        try f.backend.dropoutForward(out: tail.all, input: tail.all, probability: 0.5, seed: 11, firstIndex: split)
        #expect(try f.backend.download(tail.all) == Array(whole[split...]),
                "dropoutForward n=\(ones.count - split) p=0.5 firstIndex=\(split): not the whole tensor's mask")
    }

    @Test("dropout with p = 0 copies")
    func dropoutZeroCopies() throws {
        var f = Fixture(seed: 46)
        let x = f.normal(65)
        let input = try f.buffer(x), out = try f.backend.allocate(65, .float32)
        try f.backend.dropoutForward(out: out.all, input: input.all, probability: 0, seed: 3)
        #expect(try f.read(out) == x, "dropoutForward n=65 p=0 seed \(f.seed): not a copy")
    }

    @Test("rope backward undoes rope forward; position 0 is the identity", arguments: [0, 5])
    func ropeRoundTrip(positionOffset: Int) throws {
        var f = Fixture(seed: 47)
        let (rows, T, hs, heads, stride) = (8, 4, 8, 2, 20)
        let x = f.normal(rows * stride)
        let buffer = try f.buffer(x)
        let context = "ropeForward rows=\(rows) T=\(T) hs=\(hs) offset=\(positionOffset) seed \(f.seed)"
        try f.backend.ropeForward(buffer.all, rows: rows, sequenceLength: T, rowStride: stride, heads: heads,
                                  headDim: hs, theta: 10_000, positionOffset: positionOffset)
        let rotated = try f.read(buffer)
        for r in 0..<rows {
            let tail = (r * stride + heads * hs)..<((r + 1) * stride)
            #expect(rotated[tail] == x[tail], "\(context): row \(r) columns past heads*hs changed")
            let head = (r * stride)..<(r * stride + heads * hs)
            if r % T + positionOffset == 0 {
                #expect(rotated[head] == x[head], "\(context): position 0 row \(r) changed")
            } else {
                #expect(rotated[head] != x[head], "\(context): row \(r) was not rotated")
            }
        }
        // Pair (0, hs/2) of row 1 rotates by angle pos * theta^0 = pos: check it against cos/sin.
        let angle = Double(1 % T + positionOffset), (x1, x2) = (Double(x[stride]), Double(x[stride + hs / 2]))
        #expect(abs(Double(rotated[stride]) - (x1 * cos(angle) - x2 * sin(angle))) < 1e-6, "\(context): rotate_half layout")
        try f.backend.ropeBackward(buffer.all, rows: rows, sequenceLength: T, rowStride: stride, heads: heads,
                                   headDim: hs, theta: 10_000, positionOffset: positionOffset)
        let back = try f.read(buffer)
        #expect(maxRelativeError(back, x.map(Double.init)) < 1e-6, "\(context): backward did not undo forward")
    }

    @Test("cross-entropy loss matches a manual log-softmax", arguments: RowsCols.small)
    func crossEntropyLoss(_ shape: RowsCols) throws {
        var f = Fixture(seed: 48)
        let (n, V) = (shape.rows, shape.cols)
        let logits = f.normal(n * V, scale: 3, shift: 50)  // a large shift: max-subtraction matters
        let targets = (0..<n).map { _ in Int32(f.rng.next() % UInt64(V)) }
        let losses = try f.backend.allocate(n, .float32)
        try f.backend.crossEntropyForward(losses: losses.all, dlogits: nil, logits: f.buffer(logits).all,
                                          targets: f.buffer(targets).all, rows: n, vocabulary: V, gradientScale: 1)
        let expected = (0..<n).map { r -> Double in
            let row = logits[(r * V)..<((r + 1) * V)].map(Double.init)
            let maximum = row.max()!
            return maximum + log(row.reduce(0.0) { $0 + exp($1 - maximum) }) - row[Int(targets[r])]
        }
        let error = maxRelativeError(try f.read(losses), expected)
        #expect(error < 1e-5, "crossEntropyForward \(shape) seed \(f.seed): loss error \(error)")
    }

    @Test("squaredNorm matches a Double sum", arguments: [1, 17, 200_003])
    func squaredNorm(count: Int) throws {
        var f = Fixture(seed: 49)
        let x = f.normal(count)
        let result = try f.backend.allocate(1, .float32)
        try f.backend.squaredNorm(result: result.all, input: f.buffer(x).all)
        let expected = x.reduce(0.0) { $0 + Double($1) * Double($1) }
        let got = Double(try f.read(result)[0])
        #expect(abs(got - expected) <= 1e-6 * expected, "squaredNorm n=\(count) seed \(f.seed): \(got) vs \(expected)")
    }
}
