// Device descriptions without a device: named profiles (the GPUs we build for but may not have,
// such as the H100) as `OpenCLDeviceInfo` values, and the launch sizes every op family derives
// from a description. Host code and `OpenCLProgramPlan` both read these, so what the plan lists
// for a profile is what the backend would build on that device.

extension OpenCLDeviceInfo {
    /// Profiles by name: `h100` and `h200` (Hopper, sm_90: 132 SMs, 48 KiB of local memory per
    /// work-group, as NVIDIA's OpenCL driver reports them) and `pocl` (PoCL on a 2-core CPU).
    public static let profileNames = ["h100", "h200", "pocl"]

    /// The profile `name` (see `profileNames`), or nil.
    public static func profile(named name: String) -> OpenCLDeviceInfo? {
        switch name {
        case "h100", "h200":
            let gib = 1 << 30
            return OpenCLDeviceInfo(
                name: "NVIDIA \(name.uppercased()) (profile)", vendor: "NVIDIA Corporation", platformName: "NVIDIA CUDA",
                version: "OpenCL 3.0 CUDA", driverVersion: "profile", isGPU: true, isCPU: false,
                globalMemoryBytes: (name == "h100" ? 80 : 141) * gib, maxAllocationBytes: 19 * gib,
                localMemoryBytes: 48 * 1024, computeUnits: 132, maxWorkGroupSize: 1024,
                maxWorkItemSizes: [1024, 1024, 64])
        case "pocl":
            return OpenCLDeviceInfo(
                name: "cpu (profile)", vendor: "GenuineIntel", platformName: "Portable Computing Language",
                version: "OpenCL 3.0 PoCL", driverVersion: "profile", isGPU: false, isCPU: true,
                globalMemoryBytes: 8 << 30, maxAllocationBytes: 2 << 30, localMemoryBytes: 512 * 1024,
                computeUnits: 2, maxWorkGroupSize: 4096, maxWorkItemSizes: [4096, 4096, 4096])
        default:
            return nil
        }
    }

    /// Work-items per work-group for tree reductions: a power of two the device allows (256 on
    /// GPUs, 64 on CPUs, where PoCL runs a work-group as a loop).
    var reductionThreads: Int {
        var threads = isGPU ? 256 : 64
        while threads > maxWorkGroupSize { threads /= 2 }
        return threads
    }

    /// Work-items per softmax row: 256 on GPUs (enough loads in flight for a 50,257-column row), 64 on
    /// CPUs (fewer partials to merge); a power of two the device allows. The kernels' LOCAL_SIZE.
    var softmaxLocalSize: Int {
        var size = isGPU ? 256 : 64
        while size > maxWorkGroupSize { size /= 2 }
        return size
    }

    /// Work-items per work-group of the one-per-element kernels.
    var elementThreads: Int { min(256, maxWorkGroupSize) }

    /// Tokens per work-group of the embedding backward's occurrence chains (CHAIN_TILE).
    var embeddingChainTile: Int { min(256, maxWorkGroupSize) }
}
