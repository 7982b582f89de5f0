// Strided batched SGEMM through Kernels/matmul.cl (`matmul_tiled`), with the tile configuration
// picked per device and size: big 128×128 tiles (8×8 per work-item) on GPUs when they fill the
// device, 64×64 (4×4) for GPU matrices too small for that, 32×32 (4×4, 64 work-items) on CPUs,
// where PoCL runs a work-group as a loop and small tiles stay in cache.

import Compute

/// One tile configuration of matmul.cl; its fields become -D build options.
struct MatmulTiles: Equatable {
    let tileM: Int, tileN: Int, tileK: Int, threadM: Int, threadN: Int

    var localSize: [Int] { [tileN / threadN, tileM / threadM, 1] }
    var workItems: Int { (tileN / threadN) * (tileM / threadM) }

    static let large = MatmulTiles(tileM: 128, tileN: 128, tileK: 16, threadM: 8, threadN: 8)
    static let medium = MatmulTiles(tileM: 64, tileN: 64, tileK: 16, threadM: 4, threadN: 4)
    static let small = MatmulTiles(tileM: 32, tileN: 32, tileK: 16, threadM: 4, threadN: 4)

    /// "large", "medium" or "small"; nil for anything else.
    static func named(_ name: String?) -> MatmulTiles? {
        switch name {
        case "large": return .large
        case "medium": return .medium
        case "small": return .small
        default: return nil
        }
    }
}

extension OpenCLBackend {
    public func matmul(c: BufferView, a: BufferView, b: BufferView, m: Int, n: Int, k: Int,
                       transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float,
                       batch: Int, strideA: Int, strideB: Int, strideC: Int) throws {
        let op = "matmul"
        try Check.positive(op, ["m": m, "n": n, "k": k, "batch": batch])
        for (name, stride) in [("strideA", strideA), ("strideB", strideB), ("strideC", strideC)] where stride < 0 {
            throw BackendError.invalidArgument(op: op, reason: "\(name) must not be negative, got \(stride)")
        }
        try Check.atLeast(op, "a", a, strideA * (batch - 1) + m * k)
        try Check.atLeast(op, "b", b, strideB * (batch - 1) + k * n)
        try Check.atLeast(op, "c", c, strideC * (batch - 1) + m * n)
        _ = try memory(op, "a", a)
        _ = try memory(op, "b", b)
        _ = try memory(op, "c", c)
        let tiles = matmulTiles(m: m, n: n, batch: batch)
        let defines = [
            "TILE_M": "\(tiles.tileM)", "TILE_N": "\(tiles.tileN)", "TILE_K": "\(tiles.tileK)",
            "THREAD_M": "\(tiles.threadM)", "THREAD_N": "\(tiles.threadN)",
            "TRANS_A": transposeA ? "1" : "0", "TRANS_B": transposeB ? "1" : "0",
        ]
        let local = tiles.localSize
        let global = [(n + tiles.tileN - 1) / tiles.tileN * local[0],
                      (m + tiles.tileM - 1) / tiles.tileM * local[1], batch]
        try launch("matmul_tiled", program: "matmul", defines: defines, global: global, local: local, [
            .view(c), .view(a), .view(b), .int(m), .int(n), .int(k), .float(alpha), .float(beta),
            .int(strideA), .int(strideB), .int(strideC),
        ], profile: ("m=\(m) n=\(n) k=\(k) batch=\(batch) tA=\(transposeA ? 1 : 0) tB=\(transposeB ? 1 : 0)",
                     2.0 * Double(m) * Double(n) * Double(k) * Double(batch),
                     4.0 * Double(batch) * Double(m * k + k * n + (beta == 0 ? 1 : 2) * m * n)))
    }

    /// Large tiles when there are enough of them to give every compute unit work, else smaller ones;
    /// CPUs (and devices whose work-groups cannot hold 256 work-items) always get the small tiles.
    func matmulTiles(m: Int, n: Int, batch: Int) -> MatmulTiles {
        if let matmulTilesOverride { return matmulTilesOverride }
        guard deviceInfo.isGPU, deviceInfo.maxWorkGroupSize >= 256, deviceInfo.localMemoryBytes >= 32 * 1024 else {
            return .small
        }
        let largeBlocks = ((m + 127) / 128) * ((n + 127) / 128) * batch
        return largeBlocks >= deviceInfo.computeUnits ? .large : .medium
    }
}
