// Strided batched SGEMM through Kernels/matmul.cl, with the configuration picked per device and
// size: `matmul_tiled` with 128×128 tiles (8×8 per work-item) on GPUs when they fill the device,
// 64×64 (4×4) for GPU matrices too small for that, 32×32 where work-groups are small; on CPUs
// (PoCL) `matmul_rows`, which has no local memory or barriers and vectorises across columns.

import Compute

/// One configuration of matmul.cl: which kernel, and its tile sizes (which become -D options).
struct MatmulTiles: Equatable, CustomStringConvertible {
    /// `matmul_tiled` (local-memory tiles, for GPUs) or `matmul_rows` (no local memory, for CPUs).
    let kernel: String
    let tileM: Int, tileN: Int, tileK: Int, threadM: Int, threadN: Int

    var description: String { "\(kernel) \(tileM)x\(tileN)x\(tileK) per item \(threadM)x\(threadN)" }

    var localSize: [Int] { [tileN / threadN, tileM / threadM, 1] }

    var defines: [String: String] {
        kernel == "matmul_rows" ? ["ROWS": "\(threadM)"] : [
            "TILE_M": "\(tileM)", "TILE_N": "\(tileN)", "TILE_K": "\(tileK)",
            "THREAD_M": "\(threadM)", "THREAD_N": "\(threadN)",
        ]
    }

    /// One work-group per TILE_M × TILE_N block of C, per batch item.
    func globalSize(m: Int, n: Int, batch: Int) -> [Int] {
        let local = localSize
        return [(n + tileN - 1) / tileN * local[0], (m + tileM - 1) / tileM * local[1], batch]
    }

    static let large = MatmulTiles(kernel: "matmul_tiled", tileM: 128, tileN: 128, tileK: 16, threadM: 8, threadN: 8)
    static let medium = MatmulTiles(kernel: "matmul_tiled", tileM: 64, tileN: 64, tileK: 16, threadM: 4, threadN: 4)
    static let small = MatmulTiles(kernel: "matmul_tiled", tileM: 32, tileN: 32, tileK: 16, threadM: 4, threadN: 4)
    /// 8 work-items of 4 rows × 16 columns each.
    static let rows = MatmulTiles(kernel: "matmul_rows", tileM: 4, tileN: 128, tileK: 1, threadM: 4, threadN: 16)

    /// "large", "medium", "small" or "rows"; nil for anything else.
    static func named(_ name: String?) -> MatmulTiles? {
        switch name {
        case "large": return .large
        case "medium": return .medium
        case "small": return .small
        case "rows": return .rows
        default: return nil
        }
    }
}

extension OpenCLBackend {
    public func uncheckedMatmul(c: BufferView, a: BufferView, b: BufferView, m: Int, n: Int, k: Int,
                                transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float,
                                batch: Int, strideA: Int, strideB: Int, strideC: Int) throws {
        let tiles = matmulTiles(m: m, n: n, batch: batch)
        var defines = tiles.defines
        defines["TRANS_A"] = transposeA ? "1" : "0"
        defines["TRANS_B"] = transposeB ? "1" : "0"
        try launch(tiles.kernel, program: .matmul, defines: defines, global: tiles.globalSize(m: m, n: n, batch: batch),
                   local: tiles.localSize, [
            .view(c), .view(a), .view(b), .int(m), .int(n), .int(k), .float(alpha), .float(beta),
            .int(strideA), .int(strideB), .int(strideC),
        ])
    }

    /// Large tiles when there are enough of them to give every compute unit work, else smaller ones;
    /// devices whose work-groups cannot hold 256 work-items get small tiles, and CPUs the rows kernel.
    func matmulTiles(m: Int, n: Int, batch: Int) -> MatmulTiles {
        if let matmulTilesOverride { return matmulTilesOverride }
        if deviceInfo.isCPU { return .rows }
        guard deviceInfo.maxWorkGroupSize >= 256, deviceInfo.localMemoryBytes >= 32 * 1024 else { return .small }
        let largeBlocks = ((m + 127) / 128) * ((n + 127) / 128) * batch
        return largeBlocks >= deviceInfo.computeUnits ? .large : .medium
    }
}
