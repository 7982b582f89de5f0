// Which build of the vector kernels (Backends/BLAS/Kernels) the backend runs: the AVX-512 one (the
// AVX2+FMA kernels with GELU and the attention's products and rows of exponentials on 16 lanes)
// where the CPU and OS have AVX-512, else the AVX2+FMA one where the CPU has both, else the
// portable one every x86-64 CPU runs. Chosen once per backend, from CPUID; GPT_BLAS_KERNELS (or
// the initialiser's `kernels:`) forces a slower build, which is how the tests check them on
// machines that would pick a faster one.

import BLASKernels
import Compute

#if arch(x86_64)
import BLASKernelsAVX2
import BLASKernelsAVX512
#endif

#if canImport(Glibc)
import Glibc
#endif

/// One build of the vector kernels: a function per kernel, each over a contiguous range.
public struct VectorKernels: Sendable {
    /// A build of the kernels: which instruction set their loops were compiled for.
    public enum Build: String, Sendable, CaseIterable {
        /// The AVX2+FMA build with GELU and attention from BLASKernelsAVX512 (-mavx512f and the
        /// rest); only for CPUs (and OSes) with AVX-512 F, DQ, CD, BW and VL.
        case avx512 = "AVX-512"
        /// Compiled with -mavx2 -mfma (BLASKernelsAVX2); only for CPUs with both.
        case avx2 = "AVX2+FMA"
        /// Compiled for baseline x86-64 (or the target's baseline elsewhere); runs everywhere.
        case portable = "portable"

        /// GPT_BLAS_KERNELS's spelling.
        public var settingName: String {
            switch self {
            case .avx512: return "avx512"
            case .avx2: return "avx2"
            case .portable: return "portable"
            }
        }
    }

    /// Which build these functions are.
    public let build: Build
    let geluForward: @Sendable (_ input: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int) -> Void
    let geluBackward: @Sendable (_ input: UnsafePointer<Float>, _ dout: UnsafePointer<Float>,
                                 _ dinput: UnsafeMutablePointer<Float>, _ count: Int) -> Void
    let adamW: @Sendable (_ step: AdamWStep, _ parameters: UnsafeMutablePointer<Float>,
                          _ gradients: UnsafePointer<Float>, _ firstMoment: UnsafeMutablePointer<Float>,
                          _ secondMoment: UnsafeMutablePointer<Float>, _ count: Int) -> Void
    let dropout: @Sendable (_ mask: DropoutMask, _ input: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                            _ first: Int, _ count: Int) -> Void
    let swigluForward: @Sendable (_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>,
                                  _ out: UnsafeMutablePointer<Float>, _ count: Int) -> Void
    let swigluBackward: @Sendable (_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>,
                                   _ dout: UnsafePointer<Float>, _ dgate: UnsafeMutablePointer<Float>,
                                   _ dup: UnsafeMutablePointer<Float>, _ count: Int) -> Void
    /// LayerNorm forward of a block of rows into `out`, saving mean and rstd.
    let layerNormForward: @Sendable (_ block: LayerNormKernel.Rows, _ epsilon: Float,
                                     _ out: UnsafeMutablePointer<Float>) -> Void
    /// LayerNorm backward of a block of rows: dinput accumulated, dweight and dbias the block's partial sums.
    let layerNormBackward: @Sendable (_ block: LayerNormKernel.Rows, _ dout: UnsafePointer<Float>,
                                      _ dinput: UnsafeMutablePointer<Float>, _ dweight: UnsafeMutablePointer<Float>,
                                      _ dbias: UnsafeMutablePointer<Float>?) -> Void
    /// One (batch, query head) pair of the attention forward; `scratch` holds
    /// AttentionKernel.forwardScratch Floats.
    let attentionForward: @Sendable (_ pair: AttentionPair, _ scratch: UnsafeMutablePointer<Float>) -> Void
    /// One (batch, KV head) group of the attention backward; `scratch` holds
    /// AttentionBackwardKernel.scratch Floats.
    let attentionBackward: @Sendable (_ group: AttentionGroup, _ scratch: UnsafeMutablePointer<Float>) -> Void

    static let portable = VectorKernels(
        build: .portable,
        geluForward: { PortableKernels.geluForward($0, $1, $2) },
        geluBackward: { PortableKernels.geluBackward($0, $1, $2, $3) },
        adamW: { PortableKernels.adamW($0, $1, $2, $3, $4, $5) },
        dropout: { PortableKernels.dropout($0, $1, $2, $3, $4) },
        swigluForward: { PortableKernels.swigluForward($0, $1, $2, $3) },
        swigluBackward: { PortableKernels.swigluBackward($0, $1, $2, $3, $4, $5) },
        layerNormForward: { PortableKernels.layerNormForward($0, $1, $2) },
        layerNormBackward: { PortableKernels.layerNormBackward($0, $1, $2, $3, $4) },
        attentionForward: { PortableKernels.attentionForward($0, $1) },
        attentionBackward: { PortableKernels.attentionBackward($0, $1) })

    #if arch(x86_64)
    /// Built only once `canRun(.avx2)` said yes (in `choose`), so no code of the AVX2 module
    /// can run on a CPU without it.
    private static let avx2 = VectorKernels(
        build: .avx2,
        geluForward: { AVX2Kernels.geluForward($0, $1, $2) },
        geluBackward: { AVX2Kernels.geluBackward($0, $1, $2, $3) },
        adamW: { AVX2Kernels.adamW($0, $1, $2, $3, $4, $5) },
        dropout: { AVX2Kernels.dropout($0, $1, $2, $3, $4) },
        swigluForward: { AVX2Kernels.swigluForward($0, $1, $2, $3) },
        swigluBackward: { AVX2Kernels.swigluBackward($0, $1, $2, $3, $4, $5) },
        layerNormForward: { AVX2Kernels.layerNormForward($0, $1, $2) },
        layerNormBackward: { AVX2Kernels.layerNormBackward($0, $1, $2, $3, $4) },
        attentionForward: { AVX2Kernels.attentionForward($0, $1) },
        attentionBackward: { AVX2Kernels.attentionBackward($0, $1) })

    /// Built only once `canRun(.avx512)` said yes: the AVX2 table with GELU and the attention (its
    /// products and rows of exponentials on 16 lanes) from BLASKernelsAVX512.
    private static let avx512 = VectorKernels(
        build: .avx512,
        geluForward: { AVX512Kernels.geluForward($0, $1, $2) },
        geluBackward: { AVX512Kernels.geluBackward($0, $1, $2, $3) },
        adamW: avx2.adamW, dropout: avx2.dropout, swigluForward: avx2.swigluForward,
        swigluBackward: avx2.swigluBackward, layerNormForward: avx2.layerNormForward,
        layerNormBackward: avx2.layerNormBackward,
        attentionForward: { AVX512Kernels.attentionForward($0, $1) },
        attentionBackward: { AVX512Kernels.attentionBackward($0, $1) })
    #endif

    /// Whether `cpu` (and its OS) can run `build`.
    public static func canRun(_ build: Build, on cpu: CPUFeatures) -> Bool {
        switch build {
        case .portable: return true
        case .avx2:
            #if arch(x86_64)
            return cpu.avx2 && cpu.fma
            #else
            return false
            #endif
        case .avx512:
            return canRun(.avx2, on: cpu) && cpu.avx512
        }
    }

    /// The fastest build `cpu` can run.
    public static func fastest(on cpu: CPUFeatures) -> Build {
        [.avx512, .avx2].first { canRun($0, on: cpu) } ?? .portable
    }

    /// `requested`, else GPT_BLAS_KERNELS, else the fastest build for `cpu`. Throws when the
    /// setting is not a build's name or names one this CPU cannot run.
    static func choose(_ requested: Build?, on cpu: CPUFeatures) throws -> VectorKernels {
        var build = requested ?? fastest(on: cpu)
        if requested == nil, let value = getenv("GPT_BLAS_KERNELS").map({ String(cString: $0) }), !value.isEmpty {
            guard let named = Build.allCases.first(where: { $0.settingName == value.lowercased() }) else {
                throw BackendError.invalidArgument(
                    op: "blas", reason: "GPT_BLAS_KERNELS must be avx512, avx2 or portable, got '\(value)'")
            }
            build = named
        }
        guard canRun(build, on: cpu) else {
            let needs = build == .avx512 ? "AVX-512 (F, DQ, CD, BW, VL) with AVX2 and FMA" : "AVX2 and FMA"
            throw BackendError.unavailable(
                backend: "blas", reason: "the \(build.rawValue) vector kernels need \(needs), which \(cpu) lacks")
        }
        #if arch(x86_64)
        switch build {
        case .avx512: return avx512
        case .avx2: return avx2
        case .portable: return portable
        }
        #else
        return portable
        #endif
    }
}
