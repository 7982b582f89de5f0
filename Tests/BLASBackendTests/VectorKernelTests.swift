// The vector kernels' 2^x against Double, in both arithmetics (the FMA one runs here through
// libm's fmaf, slowly but with the same roundings as the AVX2 build), and which build of the
// kernels a CPU gets. The kernels themselves are held to the reference backend by the
// conformance suite, once per build (`blas` and `blas-portable`).

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

    @Test("a CPU with AVX2 and FMA gets the AVX2 build; without either, the portable one")
    func buildForCPU() throws {
        #if arch(x86_64)
        #expect(VectorKernels.fastest(on: SyntheticCPU.zen4.features) == .avx2)
        #expect(VectorKernels.fastest(on: SyntheticCPU.emeraldRapids.features) == .avx2)
        #endif
        let avx2WithoutFMA = SyntheticCPU(signature: 0x0003_06C3, leaf1ECX: [SyntheticCPU.osxsave, SyntheticCPU.avx],
                                          leaf7EBX: [SyntheticCPU.avx2], xcr0: SyntheticCPU.sse)
        let sandyBridge = SyntheticCPU(signature: 0x0002_06A7, leaf1ECX: [27, 28], xcr0: SyntheticCPU.sse)
        for cpu in [avx2WithoutFMA, sandyBridge] {
            #expect(VectorKernels.fastest(on: cpu.features) == .portable)
            #expect(!VectorKernels.canRun(.avx2, on: cpu.features))
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
        if VectorKernels.canRun(.avx2, on: .current) {
            #expect(try BLASBackend(threads: 1, kernels: .avx2).deviceDescription.hasSuffix("AVX2+FMA vector kernels"))
        } else {
            #expect(throws: (any Error).self) { try BLASBackend(threads: 1, kernels: .avx2) }
        }
    }
}
