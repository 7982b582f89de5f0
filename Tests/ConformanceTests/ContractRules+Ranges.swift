// The contract's rules on sizes, ranges, aliasing and host-readable values, and the calls it must
// accept (ContractRules.swift has the rest and the types).

import Compute
import ReferenceBackend
import Testing

extension ContractRule {
    static let sizes: [ContractRule] = [
        .fails("addBias with zero rows", .invalidArgument, "addBias") { v in
            try v.backend.addBias(out: v.floats(3), bias: v.floats(3), rows: 0, cols: 3)
        },
        .fails("matmul with m = 0", .invalidArgument, "matmul") { v in
            try v.backend.matmul(c: v.floats(4), a: v.floats(6), b: v.floats(6), m: 0, n: 2, k: 3)
        },
        .fails("matmul with a negative stride", .invalidArgument, "matmul") { v in
            try v.backend.matmul(c: v.floats(8), a: v.floats(12), b: v.floats(6), m: 2, n: 2, k: 3, transposeA: false,
                                 transposeB: false, alpha: 1, beta: 0, batch: 2, strideA: -6, strideB: 0, strideC: 4)
        },
        .fails("matmul whose batch items of C overlap", .invalidArgument, "matmul") { v in
            try v.backend.matmul(c: v.floats(8), a: v.floats(12), b: v.floats(6), m: 2, n: 2, k: 3, transposeA: false,
                                 transposeB: false, alpha: 1, beta: 1, batch: 2, strideA: 6, strideB: 0, strideC: 0)
        },
        .fails("attentionForward with zero heads", .invalidArgument, "attentionForward") { v in
            try v.backend.attentionForward(out: v.floats(8), logsumexp: v.floats(2), qkv: v.floats(24), batch: 1,
                                           sequenceLength: 2, heads: 0, kvHeads: 1, headDim: 4)
        },
        .fails("attentionForward with zero KV heads", .invalidArgument, "attentionForward") { v in
            try v.backend.attentionForward(out: v.floats(8), logsumexp: v.floats(2), qkv: v.floats(8), batch: 1,
                                           sequenceLength: 2, heads: 1, kvHeads: 0, headDim: 4)
        },
        .fails("attentionForward with heads not a multiple of kvHeads", .invalidArgument, "attentionForward") { v in
            // 3 query heads cannot split into 2 groups; the sizes are consistent, so only the grouping fails.
            try v.backend.attentionForward(out: v.floats(24), logsumexp: v.floats(6), qkv: v.floats(56), batch: 1,
                                           sequenceLength: 2, heads: 3, kvHeads: 2, headDim: 4)
        },
        .fails("attentionBackward with more KV heads than heads", .invalidArgument, "attentionBackward") { v in
            try v.backend.attentionBackward(dqkv: v.floats(40), dout: v.floats(8), qkv: v.floats(40), out: v.floats(8),
                                            logsumexp: v.floats(2), batch: 1, sequenceLength: 2, heads: 1, kvHeads: 2,
                                            headDim: 4)
        },
        .fails("attentionCachedForward with a negative start", .invalidArgument, "attentionCachedForward") { v in
            try v.backend.attentionCachedForward(out: v.floats(4), query: v.floats(4), keysValues: v.floats(8),
                                                 start: -1, queries: 1, heads: 1, kvHeads: 1, headDim: 4)
        },
        .fails("attentionCachedForward with heads not a multiple of kvHeads", .invalidArgument,
               "attentionCachedForward") { v in
            try v.backend.attentionCachedForward(out: v.floats(12), query: v.floats(12), keysValues: v.floats(16),
                                                 start: 1, queries: 1, heads: 3, kvHeads: 2, headDim: 4)
        },
        .fails("dropoutForward with p = 1", .invalidArgument, "dropoutForward") { v in
            try v.backend.dropoutForward(out: v.floats(6), input: v.floats(6), probability: 1, seed: 0)
        },
        .fails("dropoutBackward with a negative p", .invalidArgument, "dropoutBackward") { v in
            try v.backend.dropoutBackward(dinput: v.floats(6), dout: v.floats(6), probability: -0.1, seed: 0)
        },
        .fails("dropoutForward with a negative firstIndex", .invalidArgument, "dropoutForward") { v in
            try v.backend.dropoutForward(out: v.floats(6), input: v.floats(6), probability: 0.1, seed: 0, firstIndex: -1)
        },
        .fails("adamW at step 0", .invalidArgument, "adamW") { v in
            try v.backend.adamW(parameters: v.floats(6), gradients: v.floats(6), firstMoment: v.floats(6),
                                secondMoment: v.floats(6), learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8,
                                weightDecay: 0, step: 0, gradientScale: 1)
        },
        .fails("ropeForward with an odd head size", .invalidArgument, "ropeForward") { v in
            try v.backend.ropeForward(v.floats(6), rows: 2, sequenceLength: 2, rowStride: 3, heads: 1, headDim: 3,
                                      theta: 10_000, positionOffset: 0)
        },
        .fails("ropeBackward with a negative position offset", .invalidArgument, "ropeBackward") { v in
            try v.backend.ropeBackward(v.floats(8), rows: 2, sequenceLength: 2, rowStride: 4, heads: 1, headDim: 4,
                                       theta: 10_000, positionOffset: -1)
        },
        .fails("ropeForward with heads wider than a row", .shapeMismatch, "ropeForward") { v in
            try v.backend.ropeForward(v.floats(16), rows: 2, sequenceLength: 2, rowStride: 6, heads: 2, headDim: 4,
                                      theta: 10_000, positionOffset: 0)
        },
    ]

    static let aliasing: [ContractRule] = [
        .fails("add into a range partly overlapping a", .invalidArgument, "add") { v in
            let buffer = try v.floats(7)
            try v.backend.add(out: buffer.view(offset: 1, count: 6), a: buffer.view(offset: 0, count: 6),
                              b: v.floats(6))
        },
        .fails("layerNormForward writing over its input", .invalidArgument, "layerNormForward") { v in
            let x = try v.floats(6)
            try v.backend.layerNormForward(out: x, mean: v.floats(2), rstd: v.floats(2), input: x, weight: v.floats(3),
                                           bias: nil, rows: 2, cols: 3, epsilon: 1e-5)
        },
        .fails("matmul writing into a", .invalidArgument, "matmul") { v in
            let a = try v.floats(6)
            try v.backend.matmul(c: a.view(offset: 0, count: 4), a: a, b: v.floats(6), m: 2, n: 2, k: 3)
        },
        .fails("copy between overlapping ranges", .invalidArgument, "copy") { v in
            let buffer = try v.floats(6)
            try v.backend.copy(from: buffer.view(offset: 0, count: 3), to: buffer.view(offset: 2, count: 3))
        },
        .fails("adamW with gradients inside the parameters", .invalidArgument, "adamW") { v in
            let parameters = try v.floats(6)
            try v.backend.adamW(parameters: parameters, gradients: parameters, firstMoment: v.floats(6),
                                secondMoment: v.floats(6), learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8,
                                weightDecay: 0, step: 1, gradientScale: 1)
        },
    ]

    static let values: [ContractRule] = [
        ContractRule(name: "embeddingForward with a token outside the vocabulary",
                     outcome: .failsWhereHostReadsValues(.invalidArgument, op: "embeddingForward")) { v in
            try v.backend.embeddingForward(out: v.floats(6), table: v.floats(21), tokens: v.ints([0, 7]), count: 2,
                                           dim: 3)
        },
        ContractRule(name: "embeddingBackward with a negative token",
                     outcome: .failsWhereHostReadsValues(.invalidArgument, op: "embeddingBackward")) { v in
            try v.backend.embeddingBackward(dtable: v.floats(21), dout: v.floats(6), tokens: v.ints([-1, 0]), count: 2,
                                            dim: 3)
        },
        ContractRule(name: "crossEntropyForward with a target outside -1..<V",
                     outcome: .failsWhereHostReadsValues(.invalidArgument, op: "crossEntropyForward")) { v in
            try v.backend.crossEntropyForward(losses: v.floats(2), dlogits: nil, logits: v.floats(10),
                                              targets: v.ints([1, 5]), rows: 2, vocabulary: 5, gradientScale: 1)
        },
    ]

    static let accepted: [ContractRule] = [
        ContractRule(name: "drift: ropeForward on a view that stops after the last rotated head",
                     outcome: .succeeds) { v in
            // Two rows of stride 8; heads*hs = 4 rotated elements each, so 12 elements suffice.
            let values = (0..<12).map { Float($0) * 0.25 - 1 }
            let x = try v.backend.makeBuffer(values).all
            try v.backend.ropeForward(x, rows: 2, sequenceLength: 2, rowStride: 8, heads: 1, headDim: 4,
                                      theta: 10_000, positionOffset: 3)
            let oracle = ReferenceBackend(), expected = try oracle.makeBuffer(values).all
            try oracle.ropeForward(expected, rows: 2, sequenceLength: 2, rowStride: 8, heads: 1, headDim: 4,
                                   theta: 10_000, positionOffset: 3)
            let got = try v.backend.download(x), want = try oracle.download(expected)
            #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 1e-5 }, "got \(got), want \(want)")
        },
        ContractRule(name: "add in place: out is exactly a", outcome: .succeeds) { v in
            let a = try v.backend.makeBuffer([1, 2, 3] as [Float]).all
            try v.backend.add(out: a, a: a, b: v.floats(3, 10))
            #expect(try v.backend.download(a) == [11, 12, 13])
        },
        ContractRule(name: "crossEntropyForward with dlogits aliasing logits", outcome: .succeeds) { v in
            let logits = try v.floats(10, 0)
            try v.backend.crossEntropyForward(losses: v.floats(2), dlogits: logits, logits: logits,
                                              targets: v.ints([1, -1]), rows: 2, vocabulary: 5, gradientScale: 1)
            let gradient = try v.backend.download(logits)
            #expect(abs(gradient[1] + 0.8) < 1e-6 && abs(gradient[0] - 0.2) < 1e-6 && gradient[5...].allSatisfy { $0 == 0 })
        },
        ContractRule(name: "a rejected call writes nothing", outcome: .succeeds) { v in
            let out = try v.floats(6, 7)
            #expect(throws: BackendError.self) { try v.backend.add(out: out, a: v.floats(6), b: v.floats(5)) }
            #expect(try v.backend.download(out) == [Float](repeating: 7, count: 6))
        },
        ContractRule(name: "memory ops round-trip through sub-views", outcome: .succeeds) { v in
            let buffer = try v.backend.makeBuffer([1, 2, 3, 4, 5, 6] as [Float])
            try v.backend.copy(from: buffer.view(offset: 0, count: 2), to: buffer.view(offset: 4, count: 2))
            try v.backend.fill(buffer.view(offset: 1, count: 2), with: -1)
            #expect(try v.backend.download(buffer.all) == [1, -1, -1, 4, 1, 2])
            #expect(try v.backend.downloadInt32(v.ints([3, -7, 11])) == [3, -7, 11])
        },
    ]
}
