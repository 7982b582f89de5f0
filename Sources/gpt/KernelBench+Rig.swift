// The buffers and the one call `gpt bench --op` times, and the host-side check of a sample of its
// outputs against Double arithmetic. Inputs are uniform in [-1, 1) from a seeded generator (never
// zeros: those hide unwritten outputs and can run faster than real data).

import Compute
import GPT

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Outputs sampled by the check (fewer when the output is smaller).
private let checkSamples = 64

final class KernelBenchRig {
    let spec: KernelBenchSpec
    let backend: any Backend
    private var generator: SplitMix64
    /// Host copies of the inputs, for the check.
    private let hostA: [Float], hostB: [Float]
    private let buffers: [Buffer]

    init(spec: KernelBenchSpec, backend: any Backend, seed: UInt64) throws {
        self.spec = spec
        self.backend = backend
        var rng = SplitMix64(seed: CounterRNG.seed(seed, 0xB3AC))
        let d = spec.dimensions
        switch spec.op {
        case .matmul:
            // A (M×K), B (K×N), C (M×N).
            hostA = Self.uniform(d[0] * d[2], &rng)
            hostB = Self.uniform(d[2] * d[1], &rng)
            buffers = [try backend.makeBuffer(hostA), try backend.makeBuffer(hostB),
                       try backend.allocate(d[0] * d[1], .float32)]
        case .attention, .attentionBackward:
            // qkv (B, T, W), out (B, T, C), logsumexp (B, NH, T); backward: dout (B, T, C), dqkv
            // (B, T, W), with W = (NH + 2·KVH)·hs.
            let (b, nh, t, hs) = (d[0], d[1], d[2], d[3])
            let rows = b * t, c = nh * hs, w = (nh + 2 * spec.kvHeads) * hs
            hostA = Self.uniform(rows * w, &rng)
            hostB = spec.op == .attentionBackward ? Self.uniform(rows * c, &rng) : []
            var made = [try backend.makeBuffer(hostA), try backend.allocate(rows * c, .float32),
                        try backend.allocate(b * nh * t, .float32)]
            if spec.op == .attentionBackward {
                made += [try backend.makeBuffer(hostB), try backend.allocate(rows * w, .float32)]
            }
            buffers = made
        }
        generator = rng
        if spec.op == .attentionBackward { try forward() }  // out and logsumexp, which the backward reads
    }

    private static func uniform(_ count: Int, _ generator: inout SplitMix64) -> [Float] {
        (0..<count).map { _ in Float(generator.nextUniform() * 2 - 1) }
    }

    private func forward() throws {
        let d = spec.dimensions
        try backend.attentionForward(out: buffers[1].all, logsumexp: buffers[2].all, qkv: buffers[0].all,
                                     batch: d[0], sequenceLength: d[2], heads: d[1], kvHeads: spec.kvHeads,
                                     headDim: d[3])
    }

    /// One call of the benched op (queued; the caller synchronizes).
    func call() throws {
        let d = spec.dimensions
        switch spec.op {
        case .matmul:
            try backend.matmul(c: buffers[2].all, a: buffers[0].all, b: buffers[1].all, m: d[0], n: d[1], k: d[2])
        case .attention:
            try forward()
        case .attentionBackward:
            try backend.attentionBackward(dqkv: buffers[4].all, dout: buffers[3].all, qkv: buffers[0].all,
                                          out: buffers[1].all, logsumexp: buffers[2].all, batch: d[0],
                                          sequenceLength: d[2], heads: d[1], kvHeads: spec.kvHeads, headDim: d[3])
        }
    }

    /// ‖out − ref‖ / ‖ref‖ over up to 64 sampled outputs, the reference in Double on the host:
    /// matmul: entries of C; attention: output rows (b, t, h); backward: dV rows (b, j, g) of KV head
    /// g, which sum over its group's query heads.
    func check() throws -> (error: Double, count: Int) {
        let d = spec.dimensions
        var errorSquares = 0.0, referenceSquares = 0.0, count = 0
        func add(_ value: Float, _ reference: Double) {
            errorSquares += (Double(value) - reference) * (Double(value) - reference)
            referenceSquares += reference * reference
            count += 1
        }
        switch spec.op {
        case .matmul:
            let (m, n, k) = (d[0], d[1], d[2])
            let c = try backend.download(buffers[2].all)
            for _ in 0..<min(checkSamples, m * n) {
                let i = Int.random(in: 0..<m, using: &generator), j = Int.random(in: 0..<n, using: &generator)
                var sum = 0.0
                for p in 0..<k { sum += Double(hostA[i * k + p]) * Double(hostB[p * n + j]) }
                add(c[i * n + j], sum)
            }
        case .attention:
            let out = try backend.download(buffers[1].all)
            let (nh, t, hs) = (d[1], d[2], d[3]), c = nh * hs
            for _ in 0..<min(checkSamples, d[0] * nh * t) {
                let b = Int.random(in: 0..<d[0], using: &generator), h = Int.random(in: 0..<nh, using: &generator)
                let row = Int.random(in: 0..<t, using: &generator)
                let reference = attentionRow(b: b, h: h, t: row)
                for i in 0..<hs { add(out[(b * t + row) * c + h * hs + i], reference[i]) }
            }
        case .attentionBackward:
            let dqkv = try backend.download(buffers[4].all)
            let (nh, kvh, t, hs) = (d[1], spec.kvHeads, d[2], d[3]), c = nh * hs, group = nh / kvh
            // Per sampled (b, g): each group head's logsumexp of every row, then
            // dV_j = Σ_h Σ_{t ≥ j} P_tj dout_t for a few j.
            for _ in 0..<min(4, d[0] * kvh) {
                let b = Int.random(in: 0..<d[0], using: &generator), g = Int.random(in: 0..<kvh, using: &generator)
                let heads = Array((g * group)..<((g + 1) * group))
                let logsumexp = heads.map { h in (0..<t).map { attentionLogsumexp(b: b, h: h, t: $0) } }
                for _ in 0..<min(checkSamples / 4, t) {
                    let j = Int.random(in: 0..<t, using: &generator)
                    var dv = [Double](repeating: 0, count: hs)
                    for (index, h) in heads.enumerated() {
                        for row in j..<t {
                            let p = exp(score(b: b, h: h, query: row, key: j) - logsumexp[index][row])
                            for i in 0..<hs { dv[i] += p * Double(hostB[(b * t + row) * c + h * hs + i]) }
                        }
                    }
                    for i in 0..<hs { add(dqkv[(b * t + j) * rowWidth + c + (kvh + g) * hs + i], dv[i]) }
                }
            }
        }
        return (referenceSquares > 0 ? (errorSquares / referenceSquares).squareRoot() : errorSquares.squareRoot(), count)
    }

    /// (NH + 2·KVH)·hs: a qkv row.
    private var rowWidth: Int { (spec.dimensions[1] + 2 * spec.kvHeads) * spec.dimensions[3] }

    /// The KV head that query head h reads.
    private func kvHead(of h: Int) -> Int { h / (spec.dimensions[1] / spec.kvHeads) }

    /// q_t·k_j / sqrt(hs) for head h of sequence b, in Double. qkv is (B, T, NH + 2·KVH, hs).
    private func score(b: Int, h: Int, query: Int, key: Int) -> Double {
        let (nh, t, hs) = (spec.dimensions[1], spec.dimensions[2], spec.dimensions[3]), c = nh * hs
        let q = (b * t + query) * rowWidth + h * hs, k = (b * t + key) * rowWidth + c + kvHead(of: h) * hs
        var sum = 0.0
        for i in 0..<hs { sum += Double(hostA[q + i]) * Double(hostA[k + i]) }
        return sum / Double(hs).squareRoot()
    }

    /// log Σ_{j ≤ t} exp(score(t, j)).
    private func attentionLogsumexp(b: Int, h: Int, t: Int) -> Double {
        let scores = (0...t).map { score(b: b, h: h, query: t, key: $0) }
        let top = scores.max()!
        return top + log(scores.reduce(0) { $0 + exp($1 - top) })
    }

    /// Σ_{j ≤ t} softmax_j(score(t, j)) v_j for head h of sequence b.
    private func attentionRow(b: Int, h: Int, t: Int) -> [Double] {
        let (nh, length, hs) = (spec.dimensions[1], spec.dimensions[2], spec.dimensions[3]), c = nh * hs
        let logsumexp = attentionLogsumexp(b: b, h: h, t: t)
        var row = [Double](repeating: 0, count: hs)
        for j in 0...t {
            let p = exp(score(b: b, h: h, query: t, key: j) - logsumexp)
            let v = (b * length + j) * rowWidth + c + (spec.kvHeads + kvHead(of: h)) * hs
            for i in 0..<hs { row[i] += p * Double(hostA[v + i]) }
        }
        return row
    }
}
