// Every matmul configuration (the H100's 128×128 and 64×64 tiles included, and the CPU rows kernel)
// on this device, against the reference backend, at shapes that leave partial tiles in every
// dimension: one with odd sizes (every load scalar) and one whose sizes and strides are multiples
// of 4 (the 16-byte-load main loop, with a partial last k-step).

import Compute
@testable import OpenCLBackend
import ReferenceBackend
import Testing

@Suite("OpenCL matmul tile configurations", .enabled(if: openCLAvailable, "no OpenCL device"))
struct OpenCLMatmulTilesTests {
    static let configurations: [MatmulTiles] = MatmulTiles.all

    static let shapes = [(130, 67, 45), (132, 68, 44)]

    @Test(arguments: configurations, [(false, false), (true, false), (false, true), (true, true)])
    func tilesAgreeWithTheReference(_ tiles: MatmulTiles, _ transposes: (Bool, Bool)) throws {
        for shape in Self.shapes { try check(tiles, transposes, shape) }
    }

    func check(_ tiles: MatmulTiles, _ transposes: (Bool, Bool), _ shape: (Int, Int, Int)) throws {
        let (m, n, k, batch) = (shape.0, shape.1, shape.2, 2)
        var generator = SplitMix64(seed: 42)
        let a = (0..<(batch * m * k)).map { _ in Float(generator.nextUniform() * 2 - 1) }
        let b = (0..<(batch * k * n)).map { _ in Float(generator.nextUniform() * 2 - 1) }
        let c = (0..<(batch * m * n)).map { _ in Float(generator.nextUniform()) }
        func run(_ backend: any Backend) throws -> [Float] {
            let out = try backend.makeBuffer(c)
            try backend.matmul(c: out.all, a: try backend.makeBuffer(a).all, b: try backend.makeBuffer(b).all,
                               m: m, n: n, k: k, transposeA: transposes.0, transposeB: transposes.1,
                               alpha: 0.5, beta: 2, batch: batch, strideA: m * k, strideB: k * n, strideC: m * n)
            return try backend.download(out.all)
        }
        let backend = try makeBackend()
        backend.matmulTilesOverride = tiles
        let expected = try run(ReferenceBackend(threads: 1))
        let actual = try run(backend)
        let worst = zip(expected, actual).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-4, "tiles \(tiles) transposes \(transposes) shape \(shape): max error \(worst)")
    }
}
