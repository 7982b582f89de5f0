// The CPU features that decide which OpenBLAS kernels run well, decoded from CPUID and XCR0.
//
// An instruction set counts only when the OS also saves its registers on context switches (XCR0):
// a CPU with AVX-512 under a kernel or hypervisor that does not enable ZMM state cannot use it, and
// OpenBLAS's AVX-512 kernels would fault there.

import COpenBLAS

/// What this CPU (and its OS) can run, as far as choosing OpenBLAS kernels and our vector kernel build goes.
public struct CPUFeatures: Equatable, Sendable, CustomStringConvertible {
    /// The CPUID vendor string, decoded.
    public enum Vendor: String, Sendable {
        /// GenuineIntel, AuthenticAMD, or anything else.
        case intel = "Intel", amd = "AMD", other = "unknown vendor"
    }

    /// Which vendor's rules apply (AVX2 picks Zen kernels on AMD, Haswell elsewhere).
    public var vendor: Vendor
    /// Display family and model, as the vendors' manuals combine the base and extended fields.
    public var family: Int
    /// Display model (see `family`).
    public var model: Int
    /// Usable AVX (CPU and OS), FMA3 and AVX2.
    public var avx: Bool
    /// FMA3 (with usable AVX).
    public var fma: Bool
    /// AVX2 (with usable AVX).
    public var avx2: Bool
    /// Usable AVX-512 F, CD, BW, DQ and VL together: the set OpenBLAS's SkylakeX kernels need.
    public var avx512: Bool
    /// AVX512_BF16 on top of `avx512` (Cooper Lake, Sapphire Rapids and later, AMD Zen 4 and later).
    public var avx512BF16: Bool
    /// AMX tiles with BF16 (Sapphire Rapids and later); reported, not needed for SGEMM.
    public var amx: Bool

    /// Decodes the raw registers [EAX, EBX, ECX, EDX] of CPUID leaves 0, 1, 7.0 and 7.1, and XCR0.
    public init(leaf0: [UInt32], leaf1: [UInt32], leaf7: [UInt32], leaf7Subleaf1: [UInt32], xcr0: UInt64) {
        func bit(_ register: UInt32, _ index: Int) -> Bool { register & (1 << UInt32(index)) != 0 }
        vendor = CPUFeatures.vendor(ebx: leaf0[1], edx: leaf0[3], ecx: leaf0[2])
        let signature = leaf1[0]
        let baseFamily = Int((signature >> 8) & 0xF)
        let baseModel = Int((signature >> 4) & 0xF)
        family = baseFamily == 0xF ? baseFamily + Int((signature >> 20) & 0xFF) : baseFamily
        model = baseFamily == 0x6 || baseFamily == 0xF ? baseModel + (Int((signature >> 16) & 0xF) << 4) : baseModel

        // XCR0 bits 1-2: SSE and AVX state; bits 5-7: AVX-512 opmask and ZMM state; 17-18: AMX tiles.
        let osSavesAVX = xcr0 & 0x6 == 0x6
        let osSavesAVX512 = osSavesAVX && xcr0 & 0xE0 == 0xE0
        avx = bit(leaf1[2], 28) && osSavesAVX
        fma = bit(leaf1[2], 12) && avx
        avx2 = bit(leaf7[1], 5) && avx
        let skylakeXSet = [16, 17, 28, 30, 31].allSatisfy { bit(leaf7[1], $0) }  // F, DQ, CD, BW, VL
        avx512 = skylakeXSet && osSavesAVX512
        avx512BF16 = avx512 && bit(leaf7Subleaf1[0], 5)
        amx = bit(leaf7[3], 24) && bit(leaf7[3], 22) && xcr0 & 0x60000 == 0x60000
    }

    /// This machine's CPU.
    public static let current: CPUFeatures = {
        func leaf(_ number: UInt32, _ subleaf: UInt32 = 0) -> [UInt32] {
            var registers: [UInt32] = [0, 0, 0, 0]
            gpt_cpuid(number, subleaf, &registers)
            return registers
        }
        return CPUFeatures(leaf0: leaf(0), leaf1: leaf(1), leaf7: leaf(7), leaf7Subleaf1: leaf(7, 1),
                           xcr0: UInt64(gpt_xcr0()))
    }()

    /// e.g. "AMD family 25 model 17: AVX2, FMA, AVX-512, AVX512_BF16".
    public var description: String {
        let names = [(avx, "AVX"), (avx2, "AVX2"), (fma, "FMA"), (avx512, "AVX-512"),
                     (avx512BF16, "AVX512_BF16"), (amx, "AMX")].filter(\.0).map(\.1)
        return "\(vendor.rawValue) family \(family) model \(model): "
            + (names.isEmpty ? "no AVX" : names.joined(separator: ", "))
    }

    /// The 12-byte vendor string is EBX, EDX, ECX of leaf 0, little-endian.
    private static func vendor(ebx: UInt32, edx: UInt32, ecx: UInt32) -> Vendor {
        let bytes = [ebx, edx, ecx].flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> ($0 * 8)) } }
        switch String(decoding: bytes, as: UTF8.self) {
        case "GenuineIntel": return .intel
        case "AuthenticAMD": return .amd
        default: return .other
        }
    }
}
