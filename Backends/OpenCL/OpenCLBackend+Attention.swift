// Fused causal attention on OpenCL, with grouped-query attention (KVH key/value heads shared by
// NH query heads): forward (flash attention with online softmax, saves logsumexp), the KV-cache
// forward (the same kernel body, built with KV_CACHE, over a window of query rows and the cache's
// KV heads), and the backward
// as three kernels (D = rowsum(dout ∘ out), then dK/dV over key blocks of each KV head and dQ over
// query blocks of each query head; recomputed P, no atomics). Kernels/attention.cl and
// attention_backward.cl hold the algorithms; this file picks tile sizes that fit the device's local
// memory (a static function of the device description, so `OpenCLProgramPlan` lists the same builds
// without a device) and launches. The contract in Compute has checked the arguments and records
// the op.

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

    /// The forward's build; `kvCache`: the KV-cache kernel's (attention_cached_forward, its own build
    /// of attention.cl), never with prefetch: its second base pointer (queries and cache are two
    /// views) leaves no registers for it at hs 42 (ptx-check: spills), and decoding a token is bound
    /// by reading the cache, not by the latency prefetch hides.
    func forwardDefines(headDim: Int, kvCache: Bool = false) -> [String: String] {
        var defines = ["HEAD_DIM": "\(headDim)", "BLOCK_M": "\(blockM)", "BLOCK_N": "\(blockN)",
                       "FWD_TX": "\(forwardShare)", "PREFETCH": prefetch && !kvCache ? "1" : "0"]
        if kvCache { defines["KV_CACHE"] = "1" }
        return defines
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
    /// Enqueues the flash-attention `attention_forward` over query blocks of every (head, batch),
    /// with tiles chosen for the device; returns once queued.
    public func uncheckedAttentionForward(out: BufferView, logsumexp: BufferView, qkv: BufferView, batch: Int,
                                          sequenceLength: Int, heads: Int, kvHeads: Int, headDim: Int) throws {
        let (B, T, NH, KVH, hs) = (batch, sequenceLength, heads, kvHeads, headDim)
        let tiles = try attentionTiles(Op.attentionForward.rawValue, headDim: hs)
        // q_first = 0: every row is a query.
        try launch("attention_forward", program: .attention, defines: tiles.forwardDefines(headDim: hs),
                   global: [(T + tiles.blockM - 1) / tiles.blockM * tiles.forwardThreads, NH, B],
                   local: [tiles.forwardThreads, 1, 1], [
                       .view(out), .view(logsumexp), .view(qkv), .int(T), .int(NH), .int(KVH),
                       .float(Self.log2e / Float(hs).squareRoot()), .int(0),
                   ])
    }

    /// Enqueues `attention_cached_forward` (the forward's body built with KV_CACHE) over the new
    /// query rows and the cache; returns once queued.
    public func uncheckedAttentionCachedForward(out: BufferView, query: BufferView, keysValues: BufferView,
                                                start: Int, queries: Int, heads: Int, kvHeads: Int,
                                                headDim: Int) throws {
        let (NH, KVH, hs) = (heads, kvHeads, headDim)
        let rows = start + queries
        let tiles = try attentionTiles(Op.attentionCachedForward.rawValue, headDim: hs)
        // One sequence of `rows` tokens whose query rows start at `start`.
        try launch("attention_cached_forward", program: .attention,
                   defines: tiles.forwardDefines(headDim: hs, kvCache: true),
                   global: [(queries + tiles.blockM - 1) / tiles.blockM * tiles.forwardThreads, NH, 1],
                   local: [tiles.forwardThreads, 1, 1], [
                       .view(out), .view(query), .view(keysValues), .int(rows), .int(NH), .int(KVH),
                       .float(Self.log2e / Float(hs).squareRoot()), .int(start),
                   ])
    }

    /// Enqueues `attention_backward_delta`, then `attention_backward_dkdv` and
    /// `attention_backward_dq`, recomputing P from the saved logsumexp (no atomics); returns once queued.
    public func uncheckedAttentionBackward(dqkv: BufferView, dout: BufferView, qkv: BufferView, out: BufferView,
                                           logsumexp: BufferView, batch: Int, sequenceLength: Int,
                                           heads: Int, kvHeads: Int, headDim: Int) throws {
        let (B, T, NH, KVH, hs) = (batch, sequenceLength, heads, kvHeads, headDim)
        let tiles = try attentionTiles(Op.attentionBackward.rawValue, headDim: hs)
        let defines = tiles.backwardDefines(headDim: hs)
        // D = rowsum(dout ∘ out) per (b, h, t), once, before the two gradient kernels read it.
        let delta = try scratch(B * NH * T)
        try launch("attention_backward_delta", program: .attention_backward, defines: defines,
                   global: [roundUp(B * T * NH, Self.attentionDeltaThreads)], local: [Self.attentionDeltaThreads],
                   [.view(delta), .view(dout), .view(out), .int(B), .int(T), .int(NH)])
        let arguments: [KernelArgument] = [
            .view(dqkv), .view(dout), .view(qkv), .view(delta), .view(logsumexp), .int(T), .int(NH), .int(KVH),
            .float(Self.log2e / Float(hs).squareRoot()), .float(1 / Float(hs).squareRoot()),
        ]
        // dK/dV per KV head (over its group's query heads): s, dP, dv, dk per (query, key, d);
        // dQ per query head: s, dP, dq (s and dP are recomputed in both).
        try launch("attention_backward_dkdv", program: .attention_backward, defines: defines,
                   global: [(T + tiles.backwardKeys - 1) / tiles.backwardKeys * tiles.dkdvThreads, KVH, B],
                   local: [tiles.dkdvThreads, 1, 1], arguments)
        try launch("attention_backward_dq", program: .attention_backward, defines: defines,
                   global: [(T + tiles.dqRows - 1) / tiles.dqRows * tiles.dqThreads, NH, B],
                   local: [tiles.dqThreads, 1, 1], arguments)
    }

    static let log2e: Float = 1.442_695_04
    /// Work-items per work-group of attention_backward_delta (one per (b, t, h) row).
    static let attentionDeltaThreads = 64

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
