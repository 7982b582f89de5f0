// Fused causal attention on OpenCL: forward (flash attention with online softmax, saves logsumexp),
// the KV-cache forward (the same kernel over a window of query rows), and the backward as three
// kernels (D = rowsum(dout ∘ out), then dK/dV over key blocks and dQ over query blocks; recomputed P,
// no atomics). Kernels/attention.cl and attention_backward.cl hold the algorithms; this file checks
// shapes, picks tile sizes that fit the device's local memory (a static function of the device
// description, so `OpenCLProgramPlan` lists the same builds without a device) and launches.

import Compute

/// Tile sizes of Kernels/attention.cl and attention_backward.cl; each becomes a -D build option
/// (with HEAD_DIM). Every kernel gives each work-item 4 rows of its block (ROWS in the kernels).
struct AttentionTiles: Equatable, Sendable {
    /// Forward: queries per work-group, keys per local-memory tile, work-items sharing a query row,
    /// whether the next K and V tiles travel in registers during the score product.
    var blockM: Int, blockN: Int, forwardShare: Int, prefetch: Bool
    /// Backward dK/dV: keys per work-group, query rows per tile.
    var backwardKeys: Int, backwardQueries: Int
    /// Backward dQ: queries per work-group, keys per tile.
    var dqRows: Int, dqKeys: Int
    /// Backward: work-items sharing a block row.
    var backwardShare: Int

    static let rowsPerItem = 4

    var forwardThreads: Int { blockM / Self.rowsPerItem * forwardShare }
    var dkdvThreads: Int { backwardKeys / Self.rowsPerItem * backwardShare }
    var dqThreads: Int { dqRows / Self.rowsPerItem * backwardShare }

    func forwardDefines(headDim: Int) -> [String: String] {
        ["HEAD_DIM": "\(headDim)", "BLOCK_M": "\(blockM)", "BLOCK_N": "\(blockN)", "FWD_TX": "\(forwardShare)",
         "PREFETCH": prefetch ? "1" : "0"]
    }

    func backwardDefines(headDim: Int) -> [String: String] {
        ["HEAD_DIM": "\(headDim)", "BWD_N": "\(backwardKeys)", "BWD_M": "\(backwardQueries)",
         "BWD_Q": "\(dqRows)", "DQ_N": "\(dqKeys)", "BWD_TX": "\(backwardShare)"]
    }

    /// Local-memory bytes of each kernel, as the kernels declare them.
    func localBytes(headDim: Int) -> (forward: Int, dkdv: Int, dq: Int) {
        let forwardRow = ((headDim + 3) / 4 + 1) * 16, backwardRow = ((headDim + 7) / 8 * 2 + 1) * 16
        func padded(_ n: Int) -> Int { n + ((32 / backwardShare - n % 32) % 32 + 32) % 32 }
        return ((blockM + 2 * blockN) * forwardRow + blockN * (blockM + 4) * 4 + forwardShare * blockM * 4,
                2 * (backwardKeys + backwardQueries) * backwardRow + 2 * backwardQueries * padded(backwardKeys) * 4
                    + 8 * backwardQueries,
                2 * (dqRows + dqKeys) * backwardRow + dqKeys * padded(dqRows) * 4)
    }

    /// GPUs: hs <= 64 gets 64-query forward blocks over 32-key tiles (4 work-items per query row up to
    /// hs 48, 8 above, so each owns 8 columns of the output) with register prefetch, 32-row backward
    /// blocks and tiles; larger heads get half of everything and no prefetch (the registers are the
    /// output's). CPUs (PoCL runs a work-group as a loop) get small tiles, which compile much faster.
    /// Anything over the device's local memory is halved until it fits.
    static func chosen(headDim: Int, device: OpenCLDeviceInfo) -> AttentionTiles? {
        var tiles: AttentionTiles
        if !device.isGPU {
            tiles = AttentionTiles(blockM: 16, blockN: 8, forwardShare: 4, prefetch: false, backwardKeys: 16,
                                   backwardQueries: 8, dqRows: 16, dqKeys: 8, backwardShare: 4)
        } else if headDim <= 64 {
            tiles = AttentionTiles(blockM: 64, blockN: 32, forwardShare: headDim <= 48 ? 4 : 8, prefetch: true,
                                   backwardKeys: 32, backwardQueries: 32, dqRows: 32, dqKeys: 32, backwardShare: 8)
        } else {
            tiles = AttentionTiles(blockM: 32, blockN: 16, forwardShare: 8, prefetch: false, backwardKeys: 16,
                                   backwardQueries: 16, dqRows: 16, dqKeys: 16, backwardShare: 16)
        }
        let budget = device.localMemoryBytes - 1024  // the runtime may reserve a little
        while tiles.localBytes(headDim: headDim).forward > budget && tiles.blockN > tiles.forwardShare {
            tiles.blockN /= 2
            if tiles.localBytes(headDim: headDim).forward > budget && tiles.blockM > 4 { tiles.blockM /= 2 }
        }
        while tiles.localBytes(headDim: headDim).dkdv > budget && tiles.backwardQueries > tiles.backwardShare {
            tiles.backwardQueries /= 2
            if tiles.localBytes(headDim: headDim).dkdv > budget && tiles.backwardKeys > 4 { tiles.backwardKeys /= 2 }
        }
        while tiles.localBytes(headDim: headDim).dq > budget && tiles.dqKeys > tiles.backwardShare {
            tiles.dqKeys /= 2
            if tiles.localBytes(headDim: headDim).dq > budget && tiles.dqRows > 4 { tiles.dqRows /= 2 }
        }
        let bytes = tiles.localBytes(headDim: headDim)
        guard max(bytes.forward, bytes.dkdv, bytes.dq) <= budget,
              max(tiles.forwardThreads, tiles.dkdvThreads, tiles.dqThreads) <= device.maxWorkGroupSize else { return nil }
        return tiles
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
        try launch("attention_forward", program: "attention", defines: tiles.forwardDefines(headDim: hs),
                   global: [(T + tiles.blockM - 1) / tiles.blockM * tiles.forwardThreads, NH, B],
                   local: [tiles.forwardThreads, 1, 1], [
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
        try launch("attention_forward", program: "attention", defines: tiles.forwardDefines(headDim: hs),
                   global: [(queries + tiles.blockM - 1) / tiles.blockM * tiles.forwardThreads, NH, 1],
                   local: [tiles.forwardThreads, 1, 1], [
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
        let defines = tiles.backwardDefines(headDim: hs)
        // D = rowsum(dout ∘ out) per (b, h, t), once, before the two gradient kernels read it.
        let delta = try scratch(B * NH * T)
        try launch("attention_backward_delta", program: "attention_backward", defines: defines,
                   global: [roundUp(B * T * NH, Self.attentionDeltaThreads)], local: [Self.attentionDeltaThreads],
                   [.view(delta), .view(dout), .view(out), .int(B), .int(T), .int(NH)],
                   profile: ("B=\(B) T=\(T) NH=\(NH) hs=\(hs)", 2 * Double(B * T * C), 8 * Double(B * T * C)))
        let arguments: [KernelArgument] = [
            .view(dqkv), .view(dout), .view(qkv), .view(delta), .view(logsumexp), .int(T), .int(NH),
            .float(Self.log2e / Float(hs).squareRoot()), .float(1 / Float(hs).squareRoot()),
        ]
        let shape = "B=\(B) T=\(T) NH=\(NH) hs=\(hs)"
        let pairs: Double = Self.causalPairs(B * NH, T) * Double(hs)
        let rowsBytes: Double = 4 * Double(B * T * C), lseBytes: Double = 4 * Double(B * NH * T)
        // dK/dV: 4 products per (query, key, d): s, dP, dv, dk; reads q, k, v, dout, writes dk, dv.
        // dQ: 3 products: s, dP, dq; reads q, k, v, dout, writes dq. Both read logsumexp and D.
        try launch("attention_backward_dkdv", program: "attention_backward", defines: defines,
                   global: [(T + tiles.backwardKeys - 1) / tiles.backwardKeys * tiles.dkdvThreads, NH, B],
                   local: [tiles.dkdvThreads, 1, 1], arguments,
                   profile: (shape, 8 * pairs, 6 * rowsBytes + 2 * lseBytes))
        try launch("attention_backward_dq", program: "attention_backward", defines: defines,
                   global: [(T + tiles.dqRows - 1) / tiles.dqRows * tiles.dqThreads, NH, B],
                   local: [tiles.dqThreads, 1, 1], arguments,
                   profile: (shape, 6 * pairs, 5 * rowsBytes + 2 * lseBytes))
    }

    static let log2e: Float = 1.442_695_04
    /// Work-items per work-group of attention_backward_delta (one per (b, t, h) row).
    static let attentionDeltaThreads = 64

    /// Number of (query, key) pairs with key <= query over `sequences` sequences of length T.
    static func causalPairs(_ sequences: Int, _ T: Int) -> Double { Double(sequences) * Double(T) * Double(T + 1) / 2 }

    /// This device's tiles for head size `headDim` (see `AttentionTiles.chosen`).
    func attentionTiles(_ op: String, headDim: Int) throws -> AttentionTiles {
        if let attentionTilesOverride { return attentionTilesOverride }
        guard let tiles = AttentionTiles.chosen(headDim: headDim, device: deviceInfo) else {
            throw BackendError.unsupported(op: op, backend: name,
                                           reason: "head size \(headDim) does not fit the device's local memory "
                                               + "(\(deviceInfo.localMemoryBytes) bytes)")
        }
        return tiles
    }
}
