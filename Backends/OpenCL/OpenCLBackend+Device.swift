// OpenCL platform and device discovery: every device of every platform, what it is (name, vendor,
// versions, memory, compute units, work-group and local-memory limits), and how `--device` picks one
// (an index into that list, or a case-insensitive substring of "platform / device" names).

import COpenCL
import Compute

/// What the backend knows about its device; kernels' host code reads it to pick tile sizes
/// (e.g. NVIDIA GPU vs PoCL on a CPU).
public struct OpenCLDeviceInfo: Sendable {
    /// CL_DEVICE_NAME, e.g. "NVIDIA H100 80GB HBM3".
    public var name: String
    /// CL_DEVICE_VENDOR.
    public var vendor: String
    /// CL_PLATFORM_NAME of the platform it belongs to (e.g. "Portable Computing Language").
    public var platformName: String
    /// CL_DEVICE_VERSION, e.g. "OpenCL 3.0 CUDA".
    public var version: String
    /// CL_DRIVER_VERSION; part of the program-cache key.
    public var driverVersion: String
    /// CL_DEVICE_TYPE includes GPU: the tiled kernels are used.
    public var isGPU: Bool
    /// CL_DEVICE_TYPE includes CPU (PoCL): the kernels without local memory are used.
    public var isCPU: Bool
    /// CL_DEVICE_GLOBAL_MEM_SIZE, in bytes.
    public var globalMemoryBytes: Int
    /// CL_DEVICE_MAX_MEM_ALLOC_SIZE, in bytes: the largest single buffer `allocate` accepts.
    public var maxAllocationBytes: Int
    /// CL_DEVICE_LOCAL_MEM_SIZE per work-group, in bytes (bounds tile sizes).
    public var localMemoryBytes: Int
    /// CL_DEVICE_MAX_COMPUTE_UNITS (chooses large or small matmul tiles).
    public var computeUnits: Int
    /// CL_DEVICE_MAX_WORK_GROUP_SIZE, in work-items.
    public var maxWorkGroupSize: Int
    /// CL_DEVICE_MAX_WORK_ITEM_SIZES per dimension.
    public var maxWorkItemSizes: [Int]

    /// NVIDIA's driver: kernels may assume 32-wide warps and Hopper-class local memory.
    public var isNVIDIA: Bool { vendor.lowercased().contains("nvidia") }

    /// One line for `gpt backends` and `deviceDescription`.
    public var summary: String {
        let kind = isGPU ? "GPU" : (isCPU ? "CPU" : "accelerator")
        return "\(name) (\(vendor), \(kind), \(version), \(OpenCLDeviceInfo.gibibytes(globalMemoryBytes)) GiB, "
            + "\(computeUnits) compute units, platform \(platformName))"
    }

    static func gibibytes(_ bytes: Int) -> String {
        let tenths = (bytes * 10 + (1 << 29)) >> 30
        return "\(tenths / 10).\(tenths % 10)"
    }
}

/// One device found on the machine, with the handles needed to open it.
struct OpenCLDeviceHandle {
    let platform: cl_platform_id
    let device: cl_device_id
    let info: OpenCLDeviceInfo
}

enum OpenCLDiscovery {
    static let noPlatform = "no OpenCL platform found (install an OpenCL driver, e.g. pocl-opencl-icd)"

    /// Every device of every platform, platforms in ICD order, devices in platform order.
    static func devices() throws -> [OpenCLDeviceHandle] {
        try OpenCLLibrary.require()
        var platformCount: cl_uint = 0
        let status = clGetPlatformIDs(0, nil, &platformCount)
        // The ICD loader answers CL_PLATFORM_NOT_FOUND_KHR (-1001) when no vendor is installed.
        guard status == CL_SUCCESS, platformCount > 0 else {
            throw BackendError.unavailable(backend: "opencl", reason: noPlatform)
        }
        var platforms = [cl_platform_id?](repeating: nil, count: Int(platformCount))
        try check(clGetPlatformIDs(platformCount, &platforms, nil), call: "clGetPlatformIDs")
        var found: [OpenCLDeviceHandle] = []
        for case let platform? in platforms {
            var deviceCount: cl_uint = 0
            let listed = clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &deviceCount)
            guard listed == CL_SUCCESS, deviceCount > 0 else { continue }
            var devices = [cl_device_id?](repeating: nil, count: Int(deviceCount))
            try check(clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), deviceCount, &devices, nil),
                      call: "clGetDeviceIDs")
            let platformName = try platformString(platform, cl_platform_info(CL_PLATFORM_NAME))
            for case let device? in devices {
                found.append(OpenCLDeviceHandle(platform: platform, device: device,
                                                info: try info(device, platformName: platformName)))
            }
        }
        guard !found.isEmpty else {
            throw BackendError.unavailable(backend: "opencl", reason: "OpenCL platforms exist but report no device")
        }
        return found
    }

    /// The device `selector` names: nil takes a GPU (the `ordinal`-th of them, modulo their number:
    /// a data-parallel rank's node-local rank), else likewise among all devices; digits are an
    /// index into `devices()`; anything else is a case-insensitive substring of the device, vendor or
    /// platform name.
    static func select(_ selector: String?, ordinal: Int? = nil, from devices: [OpenCLDeviceHandle]) throws
        -> OpenCLDeviceHandle {
        let listing = devices.enumerated().map { "\($0.offset): \($0.element.info.name)" }.joined(separator: ", ")
        guard let selector, !selector.isEmpty else {
            let gpus = devices.filter(\.info.isGPU), preferred = gpus.isEmpty ? devices : gpus
            return preferred[max(ordinal ?? 0, 0) % preferred.count]
        }
        if let index = Int(selector) {
            guard devices.indices.contains(index) else {
                throw BackendError.invalidArgument(
                    op: "opencl", reason: "device index \(index) out of range; devices: \(listing)")
            }
            return devices[index]
        }
        let wanted = selector.lowercased()
        let matches = devices.filter {
            "\($0.info.platformName) / \($0.info.vendor) / \($0.info.name)".lowercased().contains(wanted)
        }
        guard let first = matches.first(where: { $0.info.isGPU }) ?? matches.first else {
            throw BackendError.invalidArgument(
                op: "opencl", reason: "no OpenCL device matches '\(selector)'; devices: \(listing)")
        }
        return first
    }

    static func info(_ device: cl_device_id, platformName: String) throws -> OpenCLDeviceInfo {
        let type: cl_device_type = try deviceValue(device, CL_DEVICE_TYPE)
        let sizes = try deviceSizes(device, cl_device_info(CL_DEVICE_MAX_WORK_ITEM_SIZES))
        return OpenCLDeviceInfo(
            name: try deviceString(device, cl_device_info(CL_DEVICE_NAME)),
            vendor: try deviceString(device, cl_device_info(CL_DEVICE_VENDOR)),
            platformName: platformName,
            version: try deviceString(device, cl_device_info(CL_DEVICE_VERSION)),
            driverVersion: try deviceString(device, cl_device_info(CL_DRIVER_VERSION)),
            isGPU: type & cl_device_type(CL_DEVICE_TYPE_GPU) != 0,
            isCPU: type & cl_device_type(CL_DEVICE_TYPE_CPU) != 0,
            globalMemoryBytes: Int(try deviceValue(device, CL_DEVICE_GLOBAL_MEM_SIZE) as cl_ulong),
            maxAllocationBytes: Int(try deviceValue(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE) as cl_ulong),
            localMemoryBytes: Int(try deviceValue(device, CL_DEVICE_LOCAL_MEM_SIZE) as cl_ulong),
            computeUnits: Int(try deviceValue(device, CL_DEVICE_MAX_COMPUTE_UNITS) as cl_uint),
            maxWorkGroupSize: Int(try deviceValue(device, CL_DEVICE_MAX_WORK_GROUP_SIZE) as Int),
            maxWorkItemSizes: sizes)
    }

    // MARK: - clGet*Info wrappers

    static func deviceValue<T>(_ device: cl_device_id, _ parameter: Int32) throws -> T {
        var value = [UInt8](repeating: 0, count: MemoryLayout<T>.size)
        try check(clGetDeviceInfo(device, cl_device_info(parameter), value.count, &value, nil),
                  call: "clGetDeviceInfo", context: "parameter \(parameter)")
        return value.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
    }

    static func deviceSizes(_ device: cl_device_id, _ parameter: cl_device_info) throws -> [Int] {
        var bytes = 0
        try check(clGetDeviceInfo(device, parameter, 0, nil, &bytes), call: "clGetDeviceInfo")
        var values = [Int](repeating: 0, count: bytes / MemoryLayout<Int>.size)
        try check(clGetDeviceInfo(device, parameter, bytes, &values, nil), call: "clGetDeviceInfo")
        return values
    }

    static func deviceString(_ device: cl_device_id, _ parameter: cl_device_info) throws -> String {
        var bytes = 0
        try check(clGetDeviceInfo(device, parameter, 0, nil, &bytes), call: "clGetDeviceInfo")
        var text = [CChar](repeating: 0, count: bytes + 1)
        try check(clGetDeviceInfo(device, parameter, bytes, &text, nil), call: "clGetDeviceInfo")
        return trimmed(text)
    }

    static func platformString(_ platform: cl_platform_id, _ parameter: cl_platform_info) throws -> String {
        var bytes = 0
        try check(clGetPlatformInfo(platform, parameter, 0, nil, &bytes), call: "clGetPlatformInfo")
        var text = [CChar](repeating: 0, count: bytes + 1)
        try check(clGetPlatformInfo(platform, parameter, bytes, &text, nil), call: "clGetPlatformInfo")
        return trimmed(text)
    }

    /// A NUL-terminated C string without the padding spaces some drivers add.
    static func trimmed(_ text: [CChar]) -> String {
        let string = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" }
        guard let first = string.firstIndex(where: { !isSpace($0) }),
              let last = string.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(string[first...last])
    }
}
