// Which OpenBLAS kernel family (OPENBLAS_CORETYPE) to run on a CPU, decided from its features.
//
// Why the backend chooses at all: a DYNAMIC_ARCH OpenBLAS picks its kernels from a table of CPU
// models it knew when it was built, and an older build falls back to its SSE3 "Prescott" kernels on
// a newer CPU. Debian 12's 0.3.21 does that on Intel family 6 model 207 (Emerald Rapids): SGEMM
// runs at 20-30 GFLOP/s there instead of 200-280 with the AVX-512 kernels. Deciding from the
// instruction sets instead of the model number keeps working on CPUs released after the library.
//
// The order of the rules comes from measuring every candidate family side by side with
// `gpt bench --op matmul` (docs/ARCHITECTURE.md, "OpenBLAS kernels", has the figures).

/// A kernel family for OPENBLAS_CORETYPE and the feature that earned it.
public struct KernelFamilyChoice: Equatable, Sendable {
    /// The OPENBLAS_CORETYPE value, spelled as OpenBLAS reports it (`openblas_get_corename`).
    public let family: String
    /// Why, e.g. "AVX-512 with BF16".
    public let reason: String
}

/// The rules that map CPU features to the OpenBLAS kernel family to request (see the file's comment).
public enum OpenBLASKernelFamily {
    /// The family to request for `cpu`, or nil to leave the choice to OpenBLAS (CPUs without AVX,
    /// where every family it has is an SSE one and its own detection is as good as ours).
    public static func choose(for cpu: CPUFeatures) -> KernelFamilyChoice? {
        if cpu.avx512 {
            // Cooperlake's SGEMM kernels are SkylakeX's; asking for Cooperlake also gets the BF16
            // extras. (OpenBLAS 0.3.21 cannot force "Cooperlake" by name, but then falls back to its
            // feature check, which picks Cooperlake on exactly these CPUs.)
            return cpu.avx512BF16
                ? KernelFamilyChoice(family: "Cooperlake", reason: "AVX-512 with BF16")
                : KernelFamilyChoice(family: "SkylakeX", reason: "AVX-512")
        }
        if cpu.avx2 && cpu.fma {
            return cpu.vendor == .amd
                ? KernelFamilyChoice(family: "Zen", reason: "AMD with AVX2 and FMA")
                : KernelFamilyChoice(family: "Haswell", reason: "AVX2 and FMA")
        }
        if cpu.avx { return KernelFamilyChoice(family: "Sandybridge", reason: "AVX without AVX2") }
        return nil
    }
}
