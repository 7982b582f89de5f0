// OpenCLProgramPlan, the list scripts/ptx-check compiles: for the H100 profile it holds every matmul
// configuration in all four transpose variants and both attention programs per head size, within
// NVIDIA's 48 KiB of local memory, and a build of every kernel file, whose source is the one the
// backend compiles (common.clh, `#line 1`, the program); and on this machine's device, every
// program that real launches of every op family build is one the plan lists (so the plan cannot
// drift from the launches), and the plan builds.

import Compute
import Foundation
@testable import OpenCLBackend
import Testing

@Suite("OpenCL program plan")
struct OpenCLProgramPlanTests {
    @Test func theH100PlanCoversEveryMatmulConfigurationAndHeadSize() throws {
        let h100 = try #require(OpenCLDeviceInfo.profile(named: "h100"))
        let builds = OpenCLProgramPlan.builds(for: h100, headSizes: [32, 42, 64, 128])
        let matmul = builds.filter { $0.program == "matmul" || $0.program == "matmul_rows" }
        #expect(matmul.count == MatmulTiles.all.count * 4)
        for tiles in MatmulTiles.all {
            for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
                let options = OpenCLBackend.buildOptions(tiles.defines(transposeA: transposeA, transposeB: transposeB))
                #expect(matmul.contains { $0.options == options && $0.kernels.map(\.name) == [tiles.kernel] },
                        "\(tiles) tA=\(transposeA) tB=\(transposeB)")
            }
        }
        for headDim in [32, 42, 64, 128] {
            let tiles = try #require(AttentionTiles.chosen(headDim: headDim, device: h100))
            let bytes = tiles.localBytes(headDim: headDim)
            #expect(max(bytes.forward, bytes.dkdv, bytes.dq) <= 48 * 1024, "hs=\(headDim): \(bytes)")
            for program in ["attention", "attention_backward"] {
                #expect(builds.contains { $0.program == program && $0.options.split(separator: " ").contains("HEAD_DIM=\(headDim)") },
                        "\(program) hs=\(headDim)")
            }
        }
        #expect(builds.allSatisfy { $0.kernels.allSatisfy { $0.workGroupSize >= 1 && $0.workGroupSize <= 1024 } })
        #expect(OpenCLDeviceInfo.profile(named: "a100") == nil)
    }

    @Test func everyKernelFileHasABuildWhoseSourceHasTheHeaderInFront() throws {
        let h100 = try #require(OpenCLDeviceInfo.profile(named: "h100"))
        let builds = OpenCLProgramPlan.builds(for: h100, headSizes: [64])
        #expect(Set(builds.map(\.kernelProgram)) == Set(KernelProgram.allCases), "ptx-check must see every program")
        for build in builds {
            let source = try build.source(kernelDirectory: nil)
            #expect(source == KernelProgram.embeddedHeader + "\n#line 1\n" + build.kernelProgram.embeddedText,
                    "\(build.program)")
        }
        let marker = "// a header edited in the kernel folder"
        let folder = try kernelFolder("plan", overrides: ["common.clh": KernelProgram.embeddedHeader + "\n" + marker])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try builds[0].source(kernelDirectory: folder).contains(marker + "\n#line 1\n"))
        try FileManager.default.removeItem(atPath: folder + "/matmul_rows.cl")
        let error = #expect(throws: BackendError.self) { try builds[0].source(kernelDirectory: folder) }
        #expect(error?.description.contains("lacks matmul_rows.cl") == true, "\(String(describing: error))")
    }

    @Test(.enabled(if: openCLAvailable, "no OpenCL device"))
    func planSourcesAreTheOnesTheBackendBuilds() throws {
        let backend = try makeBackend()
        for build in OpenCLProgramPlan.builds(for: backend.deviceInfo, headSizes: [16]) {
            #expect(try build.source(kernelDirectory: nil) == backend.source(build.kernelProgram), "\(build.program)")
        }
        let folder = try kernelFolder("plan-backend", overrides: ["attention_backward.cl": "// edited\n"])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        backend.kernelDirectory = folder
        let build = try #require(OpenCLProgramPlan.builds(for: backend.deviceInfo, headSizes: [16])
            .first { $0.kernelProgram == .attention_backward })
        #expect(try build.source(kernelDirectory: folder) == backend.source(.attention_backward))
    }

    @Test func jsonLinesCarryTheBuildOptionsAndKernels() throws {
        let build = OpenCLProgramBuild(kernelProgram: .norm, configuration: "THREADS=256", options: "-cl-std=CL1.2 -D THREADS=256",
                                       forGPUs: true, kernels: [OpenCLPlannedKernel(name: "norm_layer_forward",
                                                                                    workGroupSize: 256, minimumFMAShare: 0.5)])
        #expect(build.jsonLine == #"{"program": "norm", "configuration": "THREADS=256", "options": "-cl-std=CL1.2 -D THREADS=256", "gpu": true, "kernels": [{"name": "norm_layer_forward", "workGroupSize": 256, "minimumFMAShare": 0.5}]}"#)
    }

    @Test(.enabled(if: openCLAvailable, "no OpenCL device"))
    func everyProgramTheLaunchesBuildIsInThePlan() throws {
        let backend = try makeBackend()
        try runEveryOpFamily(backend, headDim: 16)
        let plan = OpenCLProgramPlan.builds(for: backend.deviceInfo, headSizes: [16])
        let planned = Set(plan.map { "\($0.program)|\($0.options)" })
        let built = Set(backend.programs.keys)
        #expect(built.count >= 12, "\(built.sorted())")
        #expect(built.isSubset(of: planned), "built but not planned: \(built.subtracting(planned).sorted())")
        let seconds = try backend.build(plan.filter { $0.program == "rope" })
        #expect(seconds.count == 1 && seconds[0] >= 0)
    }

    /// One call of every op family, at small shapes (tokens 0..<3 of a 5-row table).
    func runEveryOpFamily(_ backend: OpenCLBackend, headDim: Int) throws {
        let (B, T, NH, hs) = (1, 5, 2, headDim), C = NH * hs
        func buffer(_ count: Int, _ value: Float = 0.5) throws -> BufferView {
            try backend.makeBuffer([Float](repeating: value, count: count)).all
        }
        for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
            try backend.matmul(c: buffer(12), a: buffer(6), b: buffer(8), m: 3, n: 4, k: 2, transposeA: transposeA,
                               transposeB: transposeB, alpha: 1, beta: 0, batch: 1, strideA: 6, strideB: 8, strideC: 12)
        }
        let qkv = try buffer(B * T * 3 * C), out = try buffer(B * T * C), lse = try buffer(B * NH * T)
        try backend.attentionForward(out: out, logsumexp: lse, qkv: qkv, batch: B, sequenceLength: T, heads: NH,
                                     kvHeads: NH, headDim: hs)
        try backend.attentionBackward(dqkv: buffer(B * T * 3 * C), dout: buffer(B * T * C), qkv: qkv, out: out,
                                      logsumexp: lse, batch: B, sequenceLength: T, heads: NH, kvHeads: NH, headDim: hs)
        try backend.attentionCachedForward(out: buffer(C), query: buffer(C), keysValues: buffer(T * 2 * C), start: T - 1,
                                           queries: 1, heads: NH, kvHeads: NH, headDim: hs)
        let rows = B * T, x = try buffer(rows * C), y = try buffer(rows * C)
        try backend.add(out: y, a: x, b: x)
        try backend.addScaled(into: y, x, alpha: 2)
        try backend.scale(y, by: 0.5)
        try backend.addBias(out: y, bias: buffer(C), rows: rows, cols: C)
        try backend.biasBackward(dbias: buffer(C), dout: y, rows: rows, cols: C)
        let tokens = try backend.makeBuffer([Int32](repeating: 1, count: rows)).all
        try backend.embeddingForward(out: y, table: buffer(5 * C), tokens: tokens, count: rows, dim: C)
        try backend.embeddingBackward(dtable: buffer(5 * C), dout: y, tokens: tokens, count: rows, dim: C)
        let mean = try buffer(rows), rstd = try buffer(rows), weight = try buffer(C)
        try backend.layerNormForward(out: y, mean: mean, rstd: rstd, input: x, weight: weight, bias: buffer(C),
                                     rows: rows, cols: C, epsilon: 1e-5)
        try backend.layerNormBackward(dinput: buffer(rows * C), dweight: buffer(C), dbias: buffer(C), dout: y, input: x,
                                      weight: weight, mean: mean, rstd: rstd, rows: rows, cols: C)
        try backend.geluForward(out: y, input: x)
        try backend.swigluForward(out: buffer(rows * C), input: buffer(rows * 2 * C), rows: rows, hidden: C)
        try backend.dropoutForward(out: y, input: x, probability: 0.1, seed: 7)
        try backend.ropeForward(qkv, rows: rows, sequenceLength: T, rowStride: 3 * C, heads: NH, headDim: hs,
                                theta: 10000, positionOffset: 0)
        try backend.softmaxForward(out: y, input: x, rows: rows, cols: C)
        let targets = try backend.makeBuffer([Int32](repeating: 2, count: rows)).all
        try backend.crossEntropyForward(losses: buffer(rows), dlogits: buffer(rows * C), logits: x, targets: targets,
                                        rows: rows, vocabulary: C, gradientScale: 1)
        try backend.adamW(parameters: buffer(C), gradients: buffer(C), firstMoment: buffer(C, 0), secondMoment: buffer(C, 0),
                          learningRate: 1e-3, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0, step: 1,
                          gradientScale: 1)
        try backend.squaredNorm(result: buffer(1), input: x)
        try backend.synchronize()
    }
}
