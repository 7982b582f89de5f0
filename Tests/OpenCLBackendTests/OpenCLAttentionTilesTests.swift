// The attention tiles an H100 gets (64-query blocks, register prefetch, 4 or 8 work-items per query
// row; halved tiles above hs 64), run on this device against the reference backend: conformance
// only ever runs this device's own tiles, and the GPU's would otherwise first run on a GPU.
// Shapes leave partial blocks and tiles, head sizes include ones that are not multiples of 8, and
// KV heads include groups of 3 and one KV head for all (multi-query).

import Compute
@testable import OpenCLBackend
import ReferenceBackend
import Testing

@Suite("OpenCL attention with the H100's tiles", .enabled(if: openCLAvailable, "no OpenCL device"))
struct OpenCLAttentionTilesTests {
    /// (hs, NH, KVH).
    @Test(arguments: [(16, 2, 2), (42, 2, 2), (64, 2, 2), (72, 2, 2), (64, 6, 2), (42, 3, 1)])
    func h100TilesAgreeWithTheReference(headDim: Int, heads NH: Int, kvHeads KVH: Int) throws {
        let (B, T) = (2, 70), C = NH * headDim, W = (NH + 2 * KVH) * headDim
        var generator = SplitMix64(seed: UInt64(headDim))
        func random(_ count: Int, _ scale: Double) -> [Float] {
            (0..<count).map { _ in Float((generator.nextUniform() * 2 - 1) * scale) }
        }
        let qkv = random(B * T * W, 2), dout = random(B * T * C, 1)
        func run(_ backend: any Backend) throws -> (out: [Float], lse: [Float], dqkv: [Float]) {
            let qkvBuffer = try backend.makeBuffer(qkv).all
            let out = try backend.makeBuffer([Float](repeating: .nan, count: B * T * C)).all
            let lse = try backend.makeBuffer([Float](repeating: .nan, count: B * NH * T)).all
            let dqkv = try backend.makeBuffer([Float](repeating: .nan, count: B * T * W)).all
            try backend.attentionForward(out: out, logsumexp: lse, qkv: qkvBuffer, batch: B, sequenceLength: T,
                                         heads: NH, kvHeads: KVH, headDim: headDim)
            try backend.attentionBackward(dqkv: dqkv, dout: try backend.makeBuffer(dout).all, qkv: qkvBuffer, out: out,
                                          logsumexp: lse, batch: B, sequenceLength: T, heads: NH, kvHeads: KVH,
                                          headDim: headDim)
            return (try backend.download(out), try backend.download(lse), try backend.download(dqkv))
        }
        let backend = try makeBackend()
        let h100 = try #require(OpenCLDeviceInfo.profile(named: "h100"))
        let tiles = AttentionTiles.chosen(headDim: headDim, device: h100)
        try #require(tiles != nil, "hs=\(headDim) does not fit the H100's local memory")
        backend.attentionTilesOverride = tiles
        let expected = try run(ReferenceBackend(threads: 1)), actual = try run(backend)
        for (name, want, got, tolerance) in [("out", expected.out, actual.out, 1e-4), ("logsumexp", expected.lse, actual.lse, 1e-4),
                                             ("dqkv", expected.dqkv, actual.dqkv, 5e-4)] {
            let scale = want.map { abs(Double($0)) }.max() ?? 1
            let worst = zip(want, got).map { abs(Double($0) - Double($1)) }.max() ?? .infinity
            #expect(got.allSatisfy(\.isFinite) && worst <= tolerance * max(scale, 1),
                    "hs=\(headDim) NH=\(NH) KVH=\(KVH) \(name): max error \(worst) (largest value \(scale))")
        }
    }
}
