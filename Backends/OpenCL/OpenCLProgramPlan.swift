// The programs the backend would build for a device description, without any OpenCL device: each
// (program file, build options) pair with the kernels launched from it and their work-group sizes.
// `scripts/ptx-check` compiles this list for NVIDIA sm_90 (through `gpt kernels`), and gpu-suite
// builds it on a real device to warm the program cache. Build options and sizes come from the same
// functions the launches use (MatmulTiles, AttentionTiles, the OpenCLDeviceInfo sizes), and each
// build's source from the backend's own `source` (common.clh, `#line 1`, the program), so the
// list cannot drift from what runs; the kernel names are checked against the compiled programs by
// ptx-check, which fails on a kernel the plan names but the program lacks, or the reverse.

import Compute

/// One kernel of a build: its name, the work-group size the host launches it with, and the least
/// share of FMAs its hottest loop should have on sm_90 (nil: not judged).
public struct OpenCLPlannedKernel: Sendable, Equatable {
    /// The kernel function's name in its program.
    public let name: String
    /// Work-items per work-group the host launches it with.
    public let workGroupSize: Int
    /// Least share of FMAs in its hottest loop on sm_90 that ptx-check accepts (nil: not judged).
    public let minimumFMAShare: Double?
}

/// One program build: Kernels/`program`.cl with `options`, for `configuration` (what chose it).
public struct OpenCLProgramBuild: Sendable, Equatable {
    /// The program, as the launches name it.
    let kernelProgram: KernelProgram
    /// What chose this build (e.g. the matmul tile configuration), for ptx-check's report.
    public let configuration: String
    /// The `-D KEY=VALUE` build options, as passed to clBuildProgram.
    public let options: String
    /// Whether these kernels are meant for GPUs (false: the CPU-only matmul_rows).
    public let forGPUs: Bool
    /// The kernels the host launches from this build.
    public let kernels: [OpenCLPlannedKernel]

    /// The program's file base name ("matmul" for Kernels/matmul.cl).
    public var program: String { kernelProgram.rawValue }

    /// The OpenCL C the backend compiles for this build, with `kernelDirectory` (GPT_KERNELS_DIR;
    /// nil: the embedded copies) as the backend would read it: the shared header, `#line 1`, the program.
    public func source(kernelDirectory: String?) throws -> String {
        if let kernelDirectory, !kernelDirectory.isEmpty {
            try OpenCLBackend.checkComplete(kernelDirectory, for: kernelProgram)
        }
        return try OpenCLBackend.source(kernelProgram, directory: kernelDirectory)
    }

    /// One JSON object on one line (the format `gpt kernels` prints and ptx-check reads).
    public var jsonLine: String {
        let kernels = self.kernels.map { kernel in
            let share = kernel.minimumFMAShare.map { ", \"minimumFMAShare\": \($0)" } ?? ""
            return "{\"name\": \(jsonQuoted(kernel.name)), \"workGroupSize\": \(kernel.workGroupSize)\(share)}"
        }
        return "{\"program\": \(jsonQuoted(program)), \"configuration\": \(jsonQuoted(configuration)), "
            + "\"options\": \(jsonQuoted(options)), \"gpu\": \(forGPUs), \"kernels\": [\(kernels.joined(separator: ", "))]}"
    }
}

/// The program builds the backend would make for a device description, without a device:
/// what `gpt kernels` prints and ptx-check compiles.
public enum OpenCLProgramPlan {
    /// The SGEMM main loop's FMA share on sm_90 that the tiles are built for (issue 11).
    static let matmulFMAShare = 0.8
    /// The attention forward's.
    static let attentionFMAShare = 0.7

    /// Every build for `device`: every matmul configuration (with `everyMatmul`, else only those the
    /// device would pick) with all four transpose variants, the attention programs for each of
    /// `headSizes`, and every other program with the options its launches use. A head size the
    /// device cannot fit is left out (the op throws there).
    public static func builds(for device: OpenCLDeviceInfo, headSizes: [Int], everyMatmul: Bool = true)
        -> [OpenCLProgramBuild] {
        matmulBuilds(device, everyMatmul ? MatmulTiles.all : MatmulTiles.candidates(for: device))
            + Set(headSizes).sorted().flatMap { attentionBuilds(device, headDim: $0) } + otherBuilds(device)
    }

    static func matmulBuilds(_ device: OpenCLDeviceInfo, _ configurations: [MatmulTiles]) -> [OpenCLProgramBuild] {
        configurations.flatMap { tiles in
            [(false, false), (false, true), (true, false), (true, true)].map { transposeA, transposeB in
                OpenCLProgramBuild(
                    kernelProgram: tiles.program,
                    configuration: "\(tiles.tileM)x\(tiles.tileN)x\(tiles.tileK)/\(tiles.threadM)x\(tiles.threadN) "
                        + "tA=\(transposeA ? 1 : 0) tB=\(transposeB ? 1 : 0)",
                    options: OpenCLBackend.buildOptions(tiles.defines(transposeA: transposeA, transposeB: transposeB)),
                    forGPUs: tiles.runsOnGPUs,
                    kernels: [OpenCLPlannedKernel(name: tiles.kernel, workGroupSize: tiles.workGroupSize,
                                                  minimumFMAShare: tiles.runsOnGPUs ? matmulFMAShare : nil)])
            }
        }
    }

    static func attentionBuilds(_ device: OpenCLDeviceInfo, headDim: Int) -> [OpenCLProgramBuild] {
        guard let tiles = AttentionTiles.chosen(headDim: headDim, device: device) else { return [] }
        return [
            OpenCLProgramBuild(
                kernelProgram: .attention, configuration: "hs=\(headDim)",
                options: OpenCLBackend.buildOptions(tiles.forwardDefines(headDim: headDim)),
                forGPUs: true,
                kernels: [OpenCLPlannedKernel(name: "attention_forward", workGroupSize: tiles.forwardThreads,
                                              minimumFMAShare: attentionFMAShare)]),
            OpenCLProgramBuild(
                kernelProgram: .attention, configuration: "hs=\(headDim) kv-cache",
                options: OpenCLBackend.buildOptions(tiles.forwardDefines(headDim: headDim, kvCache: true)),
                forGPUs: true,
                kernels: [OpenCLPlannedKernel(name: "attention_cached_forward", workGroupSize: tiles.forwardThreads,
                                              minimumFMAShare: attentionFMAShare)]),
            OpenCLProgramBuild(
                kernelProgram: .attention_backward, configuration: "hs=\(headDim)",
                options: OpenCLBackend.buildOptions(tiles.backwardDefines(headDim: headDim)),
                forGPUs: true,
                kernels: [kernel("attention_backward_delta", OpenCLBackend.attentionDeltaThreads),
                          kernel("attention_backward_dkdv", tiles.dkdvThreads),
                          kernel("attention_backward_dq", tiles.dqThreads)]),
        ]
    }

    /// The remaining programs. Their work-group sizes mirror the launches in OpenCLBackend+<Family>.swift.
    static func otherBuilds(_ device: OpenCLDeviceInfo) -> [OpenCLProgramBuild] {
        let rowThreads = min(64, device.elementThreads), reduction = device.reductionThreads
        let pointwise = OpenCLBackend.pointwiseLocalSize
        func build(_ program: KernelProgram, _ defines: [String: String], _ kernels: [OpenCLPlannedKernel])
            -> OpenCLProgramBuild {
            OpenCLProgramBuild(kernelProgram: program, configuration: defines.isEmpty ? "default" : "",
                               options: OpenCLBackend.buildOptions(defines), forGPUs: true, kernels: kernels)
                .described()
        }
        return [
            build(.activations, [:], ["gelu_forward", "gelu_backward", "relu_forward", "relu_backward", "swiglu_forward",
                                       "swiglu_backward", "dropout"].map { kernel("activations_\($0)", pointwise) }),
            build(.elementwise, [:], ["add", "add_scaled", "scale"].map { kernel("elementwise_\($0)", device.elementThreads) }
                + [kernel("elementwise_add_bias", rowThreads)]),
            build(.embedding, [:], [kernel("embedding_forward", rowThreads)]),
            build(.embedding, ["CHAIN_TILE": "\(device.embeddingChainTile)"],
                  [kernel("embedding_chain", device.embeddingChainTile), kernel("embedding_backward", rowThreads)]),
            build(.norm, ["THREADS": "\(reduction)"],
                  ["layer_forward", "rms_forward", "backward_input"].map { kernel("norm_\($0)", reduction) }
                      + [kernel("norm_weight_partials", rowThreads)]),
            build(.optimizer, [:], [kernel("optimizer_adamw", device.elementThreads)]),
            build(.reduce, [:], [kernel("reduce_column_partials", rowThreads), kernel("reduce_columns", rowThreads)]),
            build(.reduce, ["THREADS": "\(reduction)"],
                  [kernel("reduce_squares_partial", reduction), kernel("reduce_sum_final", reduction)]),
            build(.rope, [:], [kernel("rope_rotate", OpenCLBackend.ropeLocalSize)]),
            build(.softmax, ["LOCAL_SIZE": "\(device.softmaxLocalSize)"],
                  ["forward", "backward", "cross_entropy"].map { kernel("softmax_\($0)", device.softmaxLocalSize) }),
        ]
    }

    static func kernel(_ name: String, _ workGroupSize: Int) -> OpenCLPlannedKernel {
        OpenCLPlannedKernel(name: name, workGroupSize: workGroupSize, minimumFMAShare: nil)
    }
}

extension OpenCLProgramBuild {
    /// The same build with its defines as its configuration label ("THREADS=256"), when it has any.
    func described() -> OpenCLProgramBuild {
        guard configuration.isEmpty else { return self }
        let defines = options.split(separator: " ").filter { $0.contains("=") && !$0.hasPrefix("-cl-std") }
        return OpenCLProgramBuild(kernelProgram: kernelProgram, configuration: defines.joined(separator: " "), options: options,
                                  forGPUs: forGPUs, kernels: kernels)
    }
}

extension OpenCLBackend {
    /// Builds every program of `builds` on this device (filling the in-memory and on-disk program
    /// caches, as the first launches would) and returns each one's build seconds.
    public func build(_ builds: [OpenCLProgramBuild]) throws -> [Double] {
        try builds.map { build in
            let start = ContinuousClock.now
            _ = try program(build.kernelProgram, options: build.options)
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        }
    }
}
