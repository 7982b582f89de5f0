// Fused causal attention on OpenCL: forward (flash attention with online softmax, saves logsumexp),
// the KV-cache forward (the same kernel over a window of query rows), and the backward as two kernels
// (dK/dV over key blocks, dQ over query blocks; recomputed P, no atomics). Kernels/attention.cl holds
// the algorithm; this file checks shapes, picks tile sizes that fit the device's local memory and
// launches.

import Compute

/// Tile sizes of Kernels/attention.cl; each becomes a -D build option (with HEAD_DIM).
struct AttentionTiles: Equatable {
    /// Forward: query rows (work-items) per work-group, keys per local-memory tile.
    var blockM: Int, blockN: Int
    /// Backward dK/dV: keys (work-items) per work-group, query rows per tile.
    var backwardKeys: Int, backwardQueries: Int
    /// Backward dQ: query rows (work-items) per work-group, keys per tile.
    var dqRows: Int, dqKeys: Int

    func defines(headDim: Int) -> [String: String] {
        ["HEAD_DIM": "\(headDim)", "BLOCK_M": "\(blockM)", "BLOCK_N": "\(blockN)",
         "BWD_N": "\(backwardKeys)", "BWD_M": "\(backwardQueries)",
         "BWD_Q": "\(dqRows)", "DQ_BLOCK_N": "\(dqKeys)"]
    }

    /// Local-memory bytes of each kernel (float4 rows padded to a multiple of 4 floats).
    func localBytes(headDim: Int) -> (forward: Int, dkdv: Int, dq: Int) {
        let row = (headDim + 3) / 4 * 16
        return (2 * blockN * row,
                2 * backwardKeys * row + 2 * backwardQueries * row + 8 * backwardQueries,
                dqRows * row + 2 * dqKeys * row)
    }
}

extension OpenCLBackend {
    public func attentionForward(out: BufferView, logsumexp: BufferView, qkv: BufferView,
                                 batch: Int, sequenceLength: Int, heads: Int, headDim: Int) throws {
        let op = "attentionForward"
        let (B, T, NH, hs) = (batch, sequenceLength, heads, headDim)
        let C = NH * hs
        try Check.positive(op, ["batch": B, "sequenceLength": T, "heads": NH, "headDim": hs])
        try Check.count(op, "qkv", qkv, B * T * 3 * C)
        try Check.count(op, "out", out, B * T * C)
        try Check.count(op, "logsumexp", logsumexp, B * NH * T)
        for (what, view) in [("qkv", qkv), ("out", out), ("logsumexp", logsumexp)] { _ = try memory(op, what, view) }
        let tiles = try attentionTiles(op, headDim: hs)
        // 2 FLOPs per product, 2 products (q·k and p·v) per causal (query, key, d).
        let flopsPerProduct: Double = Self.causalPairs(B * NH, T) * Double(hs)
        let bytes: Double = 4 * (Double(B * T * 4 * C) + Double(B * NH * T))
        try launch("attention_forward", program: "attention", defines: tiles.defines(headDim: hs),
                   global: [roundUp(T, tiles.blockM), NH, B], local: [tiles.blockM, 1, 1], [
                       .view(out), .view(logsumexp), .view(qkv), .int(T), .int(NH),
                       .float(Self.log2e / Float(hs).squareRoot()), .int(0), .int(1),
                   ],
                   profile: ("B=\(B) T=\(T) NH=\(NH) hs=\(hs)", 4 * flopsPerProduct, bytes))
    }

    public func attentionCachedForward(out: BufferView, qkv: BufferView, start: Int, queries: Int,
                                       heads: Int, headDim: Int) throws {
        let op = "attentionCachedForward"
        let (NH, hs) = (heads, headDim)
        let C = NH * hs, rows = start + queries
        try Check.positive(op, ["queries": queries, "heads": NH, "headDim": hs])
        guard start >= 0 else { throw BackendError.invalidArgument(op: op, reason: "start must be >= 0, got \(start)") }
        try Check.count(op, "qkv", qkv, rows * 3 * C)
        try Check.count(op, "out", out, queries * C)
        _ = try memory(op, "qkv", qkv)
        _ = try memory(op, "out", out)
        let tiles = try attentionTiles(op, headDim: hs)
        let flops: Double = 4 * Double(NH * hs) * Double(queries * rows)
        let bytes: Double = 4 * Double(rows * 3 * C + queries * C)
        // One sequence of `rows` tokens whose query window starts at `start`; no logsumexp is kept
        // (has_lse = 0), so `out` stands in for the unused logsumexp argument.
        try launch("attention_forward", program: "attention", defines: tiles.defines(headDim: hs),
                   global: [roundUp(queries, tiles.blockM), NH, 1], local: [tiles.blockM, 1, 1], [
                       .view(out), .view(out), .view(qkv), .int(rows), .int(NH),
                       .float(Self.log2e / Float(hs).squareRoot()), .int(start), .int(0),
                   ],
                   profile: ("start=\(start) queries=\(queries) NH=\(NH) hs=\(hs)", flops, bytes))
    }

    public func attentionBackward(dqkv: BufferView, dout: BufferView, qkv: BufferView, out: BufferView,
                                  logsumexp: BufferView, batch: Int, sequenceLength: Int,
                                  heads: Int, headDim: Int) throws {
        let op = "attentionBackward"
        let (B, T, NH, hs) = (batch, sequenceLength, heads, headDim)
        let C = NH * hs
        try Check.positive(op, ["batch": B, "sequenceLength": T, "heads": NH, "headDim": hs])
        try Check.count(op, "qkv", qkv, B * T * 3 * C)
        try Check.count(op, "dqkv", dqkv, B * T * 3 * C)
        try Check.count(op, "out", out, B * T * C)
        try Check.count(op, "dout", dout, B * T * C)
        try Check.count(op, "logsumexp", logsumexp, B * NH * T)
        for (what, view) in [("dqkv", dqkv), ("dout", dout), ("qkv", qkv), ("out", out), ("logsumexp", logsumexp)] {
            _ = try memory(op, what, view)
        }
        let tiles = try attentionTiles(op, headDim: hs)
        let defines = tiles.defines(headDim: hs)
        let arguments: [KernelArgument] = [
            .view(dqkv), .view(dout), .view(qkv), .view(out), .view(logsumexp), .int(T), .int(NH),
            .float(Self.log2e / Float(hs).squareRoot()), .float(1 / Float(hs).squareRoot()),
        ]
        let shape = "B=\(B) T=\(T) NH=\(NH) hs=\(hs)"
        let pairs: Double = Self.causalPairs(B * NH, T) * Double(hs)
        let rowsBytes: Double = 4 * Double(B * T * C), lseBytes: Double = 4 * Double(B * NH * T)
        // dK/dV: 4 products per (query, key, d): s, dP, dv, dk; reads q, k, v, dout, out, writes dk, dv.
        // dQ: 3 products: s, dP, dq; reads q, k, v, dout, out, writes dq.
        try launch("attention_backward_dkdv", program: "attention", defines: defines,
                   global: [roundUp(T, tiles.backwardKeys), NH, B], local: [tiles.backwardKeys, 1, 1], arguments,
                   profile: (shape, 8 * pairs, 7 * rowsBytes + lseBytes))
        try launch("attention_backward_dq", program: "attention", defines: defines,
                   global: [roundUp(T, tiles.dqRows), NH, B], local: [tiles.dqRows, 1, 1], arguments,
                   profile: (shape, 6 * pairs, 6 * rowsBytes + lseBytes))
    }

    static let log2e: Float = 1.442_695_04

    /// Number of (query, key) pairs with key <= query over `sequences` sequences of length T.
    static func causalPairs(_ sequences: Int, _ T: Int) -> Double { Double(sequences) * Double(T) * Double(T + 1) / 2 }

    /// GPU defaults: 64 work-items per work-group (two warps), 32-key forward tiles (q, the output
    /// accumulator and 32 scores stay in registers at hs = 64), 16-row/16-key backward tiles (the
    /// backward holds more per work-item). On CPUs (PoCL runs a work-group as a loop) smaller
    /// unrolled tiles compile much faster and run as fast. Any tile that does not fit the device's
    /// local memory is halved until it does.
    func attentionTiles(_ op: String, headDim: Int) throws -> AttentionTiles {
        var tiles = deviceInfo.isGPU
            ? AttentionTiles(blockM: 64, blockN: headDim > 64 ? 16 : 32, backwardKeys: 64, backwardQueries: 16,
                             dqRows: 64, dqKeys: 16)
            : AttentionTiles(blockM: 64, blockN: 16, backwardKeys: 64, backwardQueries: 8, dqRows: 64, dqKeys: 8)
        let budget = deviceInfo.localMemoryBytes - 1024  // the runtime may reserve a little
        while tiles.localBytes(headDim: headDim).forward > budget && tiles.blockN > 1 { tiles.blockN /= 2 }
        while tiles.localBytes(headDim: headDim).dkdv > budget && tiles.backwardKeys > 16 {
            tiles.backwardKeys /= 2
            if tiles.localBytes(headDim: headDim).dkdv > budget && tiles.backwardQueries > 1 { tiles.backwardQueries /= 2 }
        }
        while tiles.localBytes(headDim: headDim).dq > budget && tiles.dqRows > 16 {
            tiles.dqRows /= 2
            if tiles.localBytes(headDim: headDim).dq > budget && tiles.dqKeys > 1 { tiles.dqKeys /= 2 }
        }
        let bytes = tiles.localBytes(headDim: headDim)
        guard max(bytes.forward, bytes.dkdv, bytes.dq) <= budget,
              max(tiles.blockM, tiles.backwardKeys, tiles.dqRows) <= deviceInfo.maxWorkGroupSize else {
            throw BackendError.unsupported(op: op, backend: name,
                                           reason: "head size \(headDim) does not fit the device's local memory "
                                               + "(\(deviceInfo.localMemoryBytes) bytes)")
        }
        return tiles
    }
}
