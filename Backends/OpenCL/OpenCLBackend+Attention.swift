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
    public func uncheckedAttentionForward(out: BufferView, logsumexp: BufferView, qkv: BufferView,
                                          batch: Int, sequenceLength: Int, heads: Int, headDim: Int) throws {
        let (B, T, NH, hs) = (batch, sequenceLength, heads, headDim)
        let tiles = try attentionTiles(Op.attentionForward.rawValue, headDim: hs)
        try launch("attention_forward", program: .attention, defines: tiles.defines(headDim: hs),
                   global: [roundUp(T, tiles.blockM), NH, B], local: [tiles.blockM, 1, 1], [
                       .view(out), .view(logsumexp), .view(qkv), .int(T), .int(NH),
                       .float(Self.log2e / Float(hs).squareRoot()), .int(0), .int(1),
                   ])
    }

    public func uncheckedAttentionCachedForward(out: BufferView, qkv: BufferView, start: Int, queries: Int,
                                                heads: Int, headDim: Int) throws {
        let (NH, hs) = (heads, headDim)
        let rows = start + queries
        let tiles = try attentionTiles(Op.attentionCachedForward.rawValue, headDim: hs)
        // One sequence of `rows` tokens whose query window starts at `start`; no logsumexp is kept
        // (has_lse = 0), so `out` stands in for the unused logsumexp argument.
        try launch("attention_forward", program: .attention, defines: tiles.defines(headDim: hs),
                   global: [roundUp(queries, tiles.blockM), NH, 1], local: [tiles.blockM, 1, 1], [
                       .view(out), .view(out), .view(qkv), .int(rows), .int(NH),
                       .float(Self.log2e / Float(hs).squareRoot()), .int(start), .int(0),
                   ])
    }

    public func uncheckedAttentionBackward(dqkv: BufferView, dout: BufferView, qkv: BufferView, out: BufferView,
                                           logsumexp: BufferView, batch: Int, sequenceLength: Int,
                                           heads: Int, headDim: Int) throws {
        let (B, T, NH, hs) = (batch, sequenceLength, heads, headDim)
        let tiles = try attentionTiles(Op.attentionBackward.rawValue, headDim: hs)
        let defines = tiles.defines(headDim: hs)
        let arguments: [KernelArgument] = [
            .view(dqkv), .view(dout), .view(qkv), .view(out), .view(logsumexp), .int(T), .int(NH),
            .float(Self.log2e / Float(hs).squareRoot()), .float(1 / Float(hs).squareRoot()),
        ]
        // dK/dV: s, dP, dv, dk per (query, key, d); dQ: s, dP, dq (s and dP are recomputed in both).
        try launch("attention_backward_dkdv", program: .attention, defines: defines,
                   global: [roundUp(T, tiles.backwardKeys), NH, B], local: [tiles.backwardKeys, 1, 1], arguments)
        try launch("attention_backward_dq", program: .attention, defines: defines,
                   global: [roundUp(T, tiles.dqRows), NH, B], local: [tiles.dqRows, 1, 1], arguments)
    }

    static let log2e: Float = 1.442_695_04

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
