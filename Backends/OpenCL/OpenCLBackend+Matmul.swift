// Strided batched SGEMM through Kernels/matmul.cl, with the configuration picked per device and
// size: `matmul_tiled` with 128×128 tiles (8×8 per work-item) on GPUs when they fill the device,
// 64×64 (4×8) for GPU matrices too small for that, 32×64 where work-groups are small; on CPUs
// (PoCL) `matmul_rows` (Kernels/matmul_rows.cl), which has no local memory or barriers and
// vectorises across columns. The choice is a static function of the device description, so
// `OpenCLProgramPlan` lists the same builds without a device.

import Compute

/// One configuration of Kernels/matmul.cl (or matmul_rows.cl): which kernel, and its tile sizes
/// (which become -D options).
struct MatmulTiles: Equatable, CustomStringConvertible, Sendable {
    /// `matmul_tiled` (local-memory tiles, for GPUs) or `matmul_rows` (no local memory, for CPUs).
    let kernel: String
    let tileM: Int, tileN: Int, tileK: Int, threadM: Int, threadN: Int

    var description: String { "\(kernel) \(tileM)x\(tileN)x\(tileK) per item \(threadM)x\(threadN)" }

    var program: KernelProgram { kernel == "matmul_rows" ? .matmul_rows : .matmul }
    var runsOnGPUs: Bool { kernel != "matmul_rows" }
    var localSize: [Int] { [tileN / threadN, tileM / threadM, 1] }
    var workGroupSize: Int { localSize.reduce(1, *) }

    func defines(transposeA: Bool, transposeB: Bool) -> [String: String] {
        var defines = kernel == "matmul_rows" ? ["ROWS": "\(threadM)"] : [
            "TILE_M": "\(tileM)", "TILE_N": "\(tileN)", "TILE_K": "\(tileK)",
            "THREAD_M": "\(threadM)", "THREAD_N": "\(threadN)",
        ]
        defines["TRANS_A"] = transposeA ? "1" : "0"
        defines["TRANS_B"] = transposeB ? "1" : "0"
        return defines
    }

    /// One work-group per TILE_M × TILE_N block of C, per batch item.
    func globalSize(m: Int, n: Int, batch: Int) -> [Int] {
        let local = localSize
        return [(n + tileN - 1) / tileN * local[0], (m + tileM - 1) / tileM * local[1], batch]
    }

    /// 256 work-items of 8×8 outputs: 64 FMAs per 4 float4 reads of local memory. On sm_90 this takes
    /// ~140-160 registers, so one work-group (8 warps) per SM; 64 independent accumulators per
    /// work-item keep the FMA pipes busy at that occupancy (a 128-register cap spills).
    static let large = MatmulTiles(kernel: "matmul_tiled", tileM: 128, tileN: 128, tileK: 8, threadM: 8, threadN: 8)
    /// 128 work-items of 4×8: 4× the work-groups of `large` for matrices that cannot fill the GPU.
    static let medium = MatmulTiles(kernel: "matmul_tiled", tileM: 64, tileN: 64, tileK: 16, threadM: 4, threadN: 8)
    /// 64 work-items of 4×8, for devices whose work-groups or local memory are small.
    static let small = MatmulTiles(kernel: "matmul_tiled", tileM: 32, tileN: 64, tileK: 16, threadM: 4, threadN: 8)
    /// 8 work-items of 4 rows × 16 columns each.
    static let rows = MatmulTiles(kernel: "matmul_rows", tileM: 4, tileN: 128, tileK: 1, threadM: 4, threadN: 16)
    static let all: [MatmulTiles] = [.large, .medium, .small, .rows]

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

    /// The configurations `chosen` can pick on `device`: the rows kernel on CPUs, small tiles where
    /// work-groups cannot hold 256 work-items or local memory is under 32 KiB, else large and medium.
    static func candidates(for device: OpenCLDeviceInfo) -> [MatmulTiles] {
        if device.isCPU { return [.rows] }
        guard device.maxWorkGroupSize >= 256, device.localMemoryBytes >= 32 * 1024 else { return [.small] }
        return [.large, .medium]
    }

    /// Large tiles when there are enough of them to give every compute unit work, else medium ones
    /// (among the device's candidates).
    static func chosen(m: Int, n: Int, batch: Int, device: OpenCLDeviceInfo) -> MatmulTiles {
        let candidates = candidates(for: device)
        guard candidates.count > 1 else { return candidates[0] }
        let largeBlocks = ((m + 127) / 128) * ((n + 127) / 128) * batch
        return largeBlocks >= device.computeUnits ? .large : .medium
    }
}

extension OpenCLBackend {
    /// Enqueues `matmul_tiled` (GPUs) or `matmul_rows` (CPUs) in the configuration picked for this
    /// device and size; returns once queued.
    public func uncheckedMatmul(c: BufferView, a: BufferView, b: BufferView, m: Int, n: Int, k: Int,
                                transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float,
                                batch: Int, strideA: Int, strideB: Int, strideC: Int) throws {
        let tiles = matmulTilesOverride ?? MatmulTiles.chosen(m: m, n: n, batch: batch, device: deviceInfo)
        try launch(tiles.kernel, program: tiles.program, defines: tiles.defines(transposeA: transposeA, transposeB: transposeB),
                   global: tiles.globalSize(m: m, n: n, batch: batch),
                   local: tiles.localSize, [
            .view(c), .view(a), .view(b), .int(m), .int(n), .int(k), .float(alpha), .float(beta),
            .int(strideA), .int(strideB), .int(strideC),
        ])
    }
}
