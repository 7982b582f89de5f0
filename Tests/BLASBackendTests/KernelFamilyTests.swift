// The choice of OpenBLAS kernel family from CPU features, on synthetic CPUID registers for the CPUs
// users come with: the decoding (vendor, family, model, what the OS lets run) and the rule table.

import BLASBackend
import Testing

/// CPUID registers for a made-up CPU, built from the features a test names.
struct SyntheticCPU {
    var vendor = "GenuineIntel"
    /// Leaf 1 EAX: stepping, model, family and their extended fields, as the CPU reports them.
    var signature: UInt32
    var leaf1ECX: Set<Int> = []
    var leaf7EBX: Set<Int> = []
    var leaf7EDX: Set<Int> = []
    var leaf7Subleaf1EAX: Set<Int> = []
    var xcr0: UInt64 = 0

    static let sse = 0x7 as UInt64          // x87, SSE, AVX state
    static let avx512State = 0xE7 as UInt64 // ... plus opmask and ZMM state
    static let amxState = 0x600E7 as UInt64 // ... plus AMX tile state

    static let fma = 12, osxsave = 27, avx = 28                        // leaf 1 ECX
    static let avx2 = 5, avx512F = 16, avx512DQ = 17, avx512CD = 28, avx512BW = 30, avx512VL = 31 // leaf 7 EBX
    static let amxBF16 = 22, amxTile = 24                              // leaf 7 EDX
    static let avx512BF16 = 5                                          // leaf 7.1 EAX
    static let skylakeX: Set<Int> = [avx2, avx512F, avx512DQ, avx512CD, avx512BW, avx512VL]

    var features: CPUFeatures {
        func word(_ bits: Set<Int>) -> UInt32 { bits.reduce(0) { $0 | 1 << UInt32($1) } }
        let name = Array(vendor.utf8).map(UInt32.init)
        func pack(_ from: Int) -> UInt32 { (0..<4).reduce(0) { $0 | name[from + $1] << UInt32(8 * $1) } }
        return CPUFeatures(leaf0: [0x20, pack(0), pack(8), pack(4)],
                           leaf1: [signature, 0, word(leaf1ECX), 0],
                           leaf7: [1, word(leaf7EBX), 0, word(leaf7EDX)],
                           leaf7Subleaf1: [word(leaf7Subleaf1EAX), 0, 0, 0],
                           xcr0: xcr0)
    }

    /// Intel family 6 model 207 (Emerald Rapids): AVX-512 with BF16, AMX; Debian 12's OpenBLAS
    /// does not know the model and runs its Prescott kernels there.
    static let emeraldRapids = SyntheticCPU(
        signature: 0x000C_06F2, leaf1ECX: [fma, osxsave, avx], leaf7EBX: skylakeX,
        leaf7EDX: [amxBF16, amxTile], leaf7Subleaf1EAX: [avx512BF16], xcr0: amxState)
    /// AMD family 25 model 17 (Zen 4, Genoa): AVX-512 with BF16, no AMX.
    static let zen4 = SyntheticCPU(
        vendor: "AuthenticAMD", signature: 0x00A1_0F11, leaf1ECX: [fma, osxsave, avx], leaf7EBX: skylakeX,
        leaf7Subleaf1EAX: [avx512BF16], xcr0: avx512State)
}

@Suite("OpenBLAS kernel family from CPU features")
struct KernelFamilyTests {
    @Test("CPUID decoding: vendor, display family and model, usable instruction sets")
    func decoding() {
        let intel = SyntheticCPU.emeraldRapids.features
        #expect(intel.vendor == .intel)
        #expect(intel.family == 6 && intel.model == 207)
        #expect(intel.avx && intel.fma && intel.avx2 && intel.avx512 && intel.avx512BF16 && intel.amx)
        #expect(intel.description == "Intel family 6 model 207: AVX, AVX2, FMA, AVX-512, AVX512_BF16, AMX")

        let amd = SyntheticCPU.zen4.features
        #expect(amd.vendor == .amd)
        #expect(amd.family == 25 && amd.model == 17)
        #expect(amd.avx512 && amd.avx512BF16 && !amd.amx)
    }

    @Test("the rule table", arguments: [
        ("Emerald Rapids", SyntheticCPU.emeraldRapids, "Cooperlake"),
        ("Zen 4", SyntheticCPU.zen4, "Cooperlake"),
        ("Skylake-SP (AVX-512, no BF16)",
         SyntheticCPU(signature: 0x0005_0654, leaf1ECX: [12, 27, 28], leaf7EBX: SyntheticCPU.skylakeX,
                      xcr0: SyntheticCPU.avx512State), "SkylakeX"),
        ("Haswell (AVX2 + FMA)",
         SyntheticCPU(signature: 0x0003_06C3, leaf1ECX: [12, 27, 28], leaf7EBX: [5], xcr0: SyntheticCPU.sse),
         "Haswell"),
        ("Zen 3 (AMD, AVX2 + FMA)",
         SyntheticCPU(vendor: "AuthenticAMD", signature: 0x00A0_0F11, leaf1ECX: [12, 27, 28], leaf7EBX: [5],
                      xcr0: SyntheticCPU.sse), "Zen"),
        ("Sandy Bridge (AVX only)",
         SyntheticCPU(signature: 0x0002_06A7, leaf1ECX: [27, 28], xcr0: SyntheticCPU.sse), "Sandybridge"),
    ])
    func ruleTable(name: String, cpu: SyntheticCPU, family: String) {
        #expect(OpenBLASKernelFamily.choose(for: cpu.features)?.family == family, "\(name)")
    }

    @Test("an OS that does not save ZMM state gets the AVX2 kernels, not AVX-512 ones that would fault")
    func avx512WithoutOSSupport() {
        var cpu = SyntheticCPU.emeraldRapids
        cpu.xcr0 = SyntheticCPU.sse
        #expect(!cpu.features.avx512 && !cpu.features.amx)
        #expect(OpenBLASKernelFamily.choose(for: cpu.features)?.family == "Haswell")
    }

    @Test("no AVX (or an OS without XSAVE) leaves the choice to OpenBLAS")
    func leftToOpenBLAS() {
        let sseOnly = SyntheticCPU(signature: 0x0001_067A, xcr0: 0)
        #expect(OpenBLASKernelFamily.choose(for: sseOnly.features) == nil)
        var noXSAVE = SyntheticCPU.emeraldRapids
        noXSAVE.leaf1ECX.remove(SyntheticCPU.osxsave)
        noXSAVE.xcr0 = 0
        #expect(!noXSAVE.features.avx)
        #expect(OpenBLASKernelFamily.choose(for: noXSAVE.features) == nil)
    }
}
