// The vector kernels' 2^x against Double, in both arithmetics (the FMA one runs here through
// libm's fmaf, slowly but with the same roundings as the AVX2 build), and which build of the
// kernels a CPU gets. The kernels themselves are held to the reference backend by the
// conformance suite, in the fastest build and the portable one (`blas` and `blas-portable`); the
// AVX-512 build's kernels of its own, GELU and the attention's products and rows of exponentials
// on 16 lanes, are held here to the AVX2 build's bit for bit (every other entry of the AVX-512
// table is the AVX2 build's function).

@testable import BLASBackend
import BLASKernels
import Compute
import Foundation
import Testing

@Suite("Vector kernels")
struct VectorKernelTests {
    /// `f` of every lane of `inputs`, in `arithmetic`.
    static func evaluate<A: VectorArithmetic>(_ inputs: [Float], _ arithmetic: A.Type,
                                              _ f: (Float8, A.Type) -> Float8) -> [Float] {
        stride(from: 0, to: inputs.count, by: 8).flatMap { start -> [Float] in
            var lanes = Float8()
            for lane in 0..<min(8, inputs.count - start) { lanes[lane] = inputs[start + lane] }
            let result = f(lanes, arithmetic)
            return (0..<min(8, inputs.count - start)).map { result[$0] }
        }
    }

    static let arithmetics: [(String, Bool)] = [("separate multiply-add", false), ("fused multiply-add", true)]

    @Test("2^t within 2.5e-7 relative on [-126, 127]; 0 below -127, +inf above 128, NaN kept",
          arguments: arithmetics)
    func exp2(name: String, fused: Bool) {
        let sweep = (0...200_000).map { Float(-126 + 253 * Double($0) / 200_000) }
        let specials: [Float] = [-.infinity, -1000, -127.5, 128.5, 1000, .infinity, .nan, 0, -0.0]
        let inputs = sweep + specials
        let outputs = fused ? Self.evaluate(inputs, FusedMultiplyAdd.self, Vector.exp2)
                            : Self.evaluate(inputs, SeparateMultiplyAdd.self, Vector.exp2)
        var worst = 0.0
        for (t, y) in zip(sweep, outputs) {
            let exact = Foundation.exp2(Double(t))
            worst = max(worst, abs(Double(y) - exact) / exact)
        }
        #expect(worst <= 2.5e-7, "\(name): worst relative error \(worst)")
        let special = Array(outputs.suffix(specials.count))
        #expect(special[0...2] == [0, 0, 0] && special[3...5] == [.infinity, .infinity, .infinity], "\(name)")
        #expect(special[6].isNaN && special[7] == 1 && special[8] == 1, "\(name)")
    }

    @Test("AVX-512 gets the AVX-512 build; AVX2 and FMA without it the AVX2 build; without either, the portable one")
    func buildForCPU() throws {
        #if arch(x86_64)
        #expect(VectorKernels.fastest(on: SyntheticCPU.zen4.features) == .avx512)
        #expect(VectorKernels.fastest(on: SyntheticCPU.emeraldRapids.features) == .avx512)
        let zen3 = SyntheticCPU(vendor: "AuthenticAMD", signature: 0x00A0_0F11, leaf1ECX: [SyntheticCPU.fma,
                                SyntheticCPU.osxsave, SyntheticCPU.avx], leaf7EBX: [SyntheticCPU.avx2],
                                xcr0: SyntheticCPU.sse)
        // AVX-512 instructions present, but the OS does not save the ZMM state (XCR0 without it).
        let avx512Unsaved = SyntheticCPU(signature: 0x0005_0654, leaf1ECX: [SyntheticCPU.fma, SyntheticCPU.osxsave,
                                         SyntheticCPU.avx], leaf7EBX: SyntheticCPU.skylakeX, xcr0: SyntheticCPU.sse)
        for cpu in [zen3, avx512Unsaved] {
            #expect(VectorKernels.fastest(on: cpu.features) == .avx2)
            let error = #expect(throws: BackendError.self) { try VectorKernels.choose(.avx512, on: cpu.features) }
            #expect(error?.description.contains("need AVX-512") == true)
        }
        #endif
        let avx2WithoutFMA = SyntheticCPU(signature: 0x0003_06C3, leaf1ECX: [SyntheticCPU.osxsave, SyntheticCPU.avx],
                                          leaf7EBX: [SyntheticCPU.avx2], xcr0: SyntheticCPU.sse)
        let sandyBridge = SyntheticCPU(signature: 0x0002_06A7, leaf1ECX: [27, 28], xcr0: SyntheticCPU.sse)
        for cpu in [avx2WithoutFMA, sandyBridge] {
            #expect(VectorKernels.fastest(on: cpu.features) == .portable)
            #expect(!VectorKernels.canRun(.avx2, on: cpu.features) && !VectorKernels.canRun(.avx512, on: cpu.features))
            let error = #expect(throws: BackendError.self) { try VectorKernels.choose(.avx2, on: cpu.features) }
            #expect(error?.description.contains("need AVX2 and FMA") == true)
            #expect(try VectorKernels.choose(.portable, on: cpu.features).build == .portable)
        }
    }

    @Test("the backend runs the build it was asked for, and says so",
          .enabled(if: (try? OpenBLASLibrary.require()) != nil))
    func backendReportsItsBuild() throws {
        let portable = try BLASBackend(threads: 1, kernels: .portable)
        #expect(portable.kernels.build == .portable)
        #expect(portable.deviceDescription.hasSuffix("portable vector kernels"))
        let builds: [(VectorKernels.Build, String)] = [(.avx2, "AVX2+FMA vector kernels"),
                                                       (.avx512, "AVX-512 vector kernels")]
        for (build, suffix) in builds {
            if VectorKernels.canRun(build, on: .current) {
                #expect(try BLASBackend(threads: 1, kernels: build).deviceDescription.hasSuffix(suffix))
            } else {
                #expect(throws: (any Error).self) { try BLASBackend(threads: 1, kernels: build) }
            }
        }
    }

    /// Inputs for comparing GELU builds: a sweep over [-12, 12] that ends mid-vector (so the tails
    /// run), then the values where the formula's limits matter.
    static let geluInputs: [Float] = (0..<100_003).map { Float(-12 + 24 * Double($0) / 100_003) }
        + [-.infinity, .infinity, .nan, 0, -0.0, -1000, 1000, -88, 88, .leastNonzeroMagnitude,
           -.greatestFiniteMagnitude]

    @Test("the AVX-512 build's 16-lane GELU gives the AVX2 build's results bit for bit, forward and backward",
          .enabled(if: VectorKernels.canRun(.avx512, on: .current)))
    func wideGELUMatchesAVX2() throws {
        let avx2 = try VectorKernels.choose(.avx2, on: .current)
        let avx512 = try VectorKernels.choose(.avx512, on: .current)
        let x = Self.geluInputs, dout = x.indices.map { Float(($0 * 7919) % 1000) / 250 - 2 }
        for count in [x.count, 15, 16, 17, 1] {
            func run(_ kernels: VectorKernels) -> (forward: [UInt32], backward: [UInt32]) {
                var out = [Float](repeating: 0, count: count), dinput = out
                kernels.geluForward(x, &out, count)
                kernels.geluBackward(x, dout, &dinput, count)
                return (out.map(\.bitPattern), dinput.map(\.bitPattern))
            }
            let (wide, narrow) = (run(avx512), run(avx2))
            let forward = wide.forward.indices.first { wide.forward[$0] != narrow.forward[$0] }
            let backward = wide.backward.indices.first { wide.backward[$0] != narrow.backward[$0] }
            #expect(forward == nil, "forward, \(count) elements: first differs at x = \(forward.map { x[$0] } ?? 0)")
            #expect(backward == nil, "backward, \(count) elements: first differs at x = \(backward.map { x[$0] } ?? 0)")
        }
    }

    @Test("the AVX-512 build's attention gives the AVX2 build's results bit for bit, forward and backward",
          .enabled(if: VectorKernels.canRun(.avx512, on: .current) && (try? OpenBLASLibrary.require()) != nil),
          arguments: [(2, 64, 4, 4, 32), (1, 65, 2, 2, 64), (2, 33, 4, 2, 40), (1, 130, 2, 1, 128), (1, 17, 3, 3, 8)])
    func wideAttentionMatchesAVX2(shape: (Int, Int, Int, Int, Int)) throws {
        let (batch, length, heads, kvHeads, headDim) = shape
        let rows = batch * length, width = (heads + 2 * kvHeads) * headDim, channels = heads * headDim
        let qkv = (0..<rows * width).map { Float(($0 * 7919) % 2003) / 1001.5 - 1 }
        let dout = (0..<rows * channels).map { Float(($0 * 104_729) % 1999) / 999.5 - 1 }
        func run(_ build: VectorKernels.Build) throws -> [UInt32] {
            let backend = try BLASBackend(threads: 2, kernels: build)
            let input = try backend.allocate(qkv.count, .float32), gradient = try backend.allocate(dout.count, .float32)
            let out = try backend.allocate(dout.count, .float32), dqkv = try backend.allocate(qkv.count, .float32)
            let logsumexp = try backend.allocate(batch * heads * length, .float32)
            try backend.upload(qkv, to: input.all)
            try backend.upload(dout, to: gradient.all)
            try backend.attentionForward(out: out.all, logsumexp: logsumexp.all, qkv: input.all, batch: batch,
                                         sequenceLength: length, heads: heads, kvHeads: kvHeads, headDim: headDim)
            try backend.attentionBackward(dqkv: dqkv.all, dout: gradient.all, qkv: input.all, out: out.all,
                                          logsumexp: logsumexp.all, batch: batch, sequenceLength: length,
                                          heads: heads, kvHeads: kvHeads, headDim: headDim)
            return try (backend.download(out.all) + backend.download(logsumexp.all) + backend.download(dqkv.all))
                .map(\.bitPattern)
        }
        let (wide, narrow) = (try run(.avx512), try run(.avx2))
        let first = wide.indices.first { wide[$0] != narrow[$0] }
        #expect(first == nil, "out, logsumexp, dqkv concatenated: first differs at \(first ?? 0) of \(wide.count)")
    }
}
