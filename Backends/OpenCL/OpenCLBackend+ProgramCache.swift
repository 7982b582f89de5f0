// Programs and kernels: builds of each program's source (+KernelSource) with `-D KEY=VALUE` options,
// an in-memory cache per backend, and an on-disk binary cache
// ($GPT_OPENCL_CACHE_DIR, else $XDG_CACHE_HOME/swift-gpt/opencl, else ~/.cache/swift-gpt/opencl)
// keyed by an FNV-1a 64 hash of the source, build options, device name and version, driver version
// and platform. A cache entry
// the driver rejects (corrupt, or from another driver) is rebuilt from source and overwritten.
// `GPT_OPENCL_CACHE=0` turns the disk cache off.

import COpenCL
import Compute
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

extension OpenCLBackend {
    /// The kernel object `name` of `program` built with `defines`, built and cached on first use.
    func kernel(_ name: String, program: KernelProgram, defines: [String: String]) throws -> cl_kernel {
        let options = Self.buildOptions(defines)
        let key = "\(program.rawValue)|\(options)|\(name)"
        if let kernel = kernels[key] { return kernel }
        let built = try self.program(program, options: options)
        var status: cl_int = CL_SUCCESS
        guard let kernel = clCreateKernel(built, name, &status), status == CL_SUCCESS else {
            throw OpenCLStatus.error(status, call: "clCreateKernel", context: "\(name) in \(program.rawValue).cl")
        }
        kernels[key] = kernel
        return kernel
    }

    /// `-cl-std=CL1.2` and the defines in sorted order (stable, so the cache key is too).
    public static func buildOptions(_ defines: [String: String]) -> String {
        (["-cl-std=CL1.2"] + defines.sorted { $0.key < $1.key }.map { "-D \($0.key)=\($0.value)" })
            .joined(separator: " ")
    }

    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    func program(_ program: KernelProgram, options: String) throws -> cl_program {
        let name = program.rawValue
        let key = "\(name)|\(options)"
        if let built = programs[key] { return built }
        let source = try self.source(program)
        let hash = Self.fnv1a64([source, options, deviceInfo.name, deviceInfo.version, deviceInfo.driverVersion,
                                 deviceInfo.platformName])
        let cacheFile = Self.prepared(programCacheDirectory).map { "\($0)/\(name)-\(String(hash, radix: 16)).bin" }
        if let cacheFile, let built = loadBinary(cacheFile, options: options) {
            programs[key] = built
            return built
        }
        let built = try buildFromSource(name, source: source, options: options)
        if let cacheFile { saveBinary(built, to: cacheFile) }
        programs[key] = built
        return built
    }

    private func buildFromSource(_ name: String, source: String, options: String) throws -> cl_program {
        var status: cl_int = CL_SUCCESS
        let created: cl_program? = source.withCString { text in
            var pointer: UnsafePointer<CChar>? = text
            return clCreateProgramWithSource(context, 1, &pointer, nil, &status)
        }
        guard let program = created, status == CL_SUCCESS else {
            throw OpenCLStatus.error(status, call: "clCreateProgramWithSource", context: "\(name).cl")
        }
        var device: cl_device_id? = self.device
        let built = clBuildProgram(program, 1, &device, options, nil, nil)
        guard built == CL_SUCCESS else {
            let log = buildLog(program)
            clReleaseProgram(program)
            let reason = log.isEmpty ? "clBuildProgram: \(OpenCLStatus.name(built))" : log
            throw BackendError.kernelBuild(kernel: "\(name).cl [\(options)]", log: reason)
        }
        return program
    }

    func buildLog(_ program: cl_program) -> String {
        var bytes = 0
        let info = cl_program_build_info(CL_PROGRAM_BUILD_LOG)
        guard clGetProgramBuildInfo(program, device, info, 0, nil, &bytes) == CL_SUCCESS, bytes > 0 else { return "" }
        var text = [CChar](repeating: 0, count: bytes + 1)
        guard clGetProgramBuildInfo(program, device, info, bytes, &text, nil) == CL_SUCCESS else { return "" }
        return OpenCLDiscovery.trimmed(text)
    }

    // MARK: - Disk cache

    /// $GPT_OPENCL_CACHE_DIR (gpu-suite keeps the driver's binaries with its results this way), else
    /// $XDG_CACHE_HOME/swift-gpt/opencl, else ~/.cache/swift-gpt/opencl; nil when
    /// GPT_OPENCL_CACHE=0 or none of these is set.
    static func defaultCacheDirectory() -> String? {
        if environment("GPT_OPENCL_CACHE") == "0" { return nil }
        if let folder = environment("GPT_OPENCL_CACHE_DIR"), !folder.isEmpty { return folder }
        if let xdg = environment("XDG_CACHE_HOME"), !xdg.isEmpty { return "\(xdg)/swift-gpt/opencl" }
        if let home = environment("HOME"), !home.isEmpty { return "\(home)/.cache/swift-gpt/opencl" }
        return nil
    }

    /// `directory`, created if needed; nil when unset or not creatable (caching is optional).
    static func prepared(_ directory: String?) -> String? {
        guard let directory, !directory.isEmpty else { return nil }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            return nil
        }
        return directory
    }

    /// A program from a cached binary, or nil when there is none or the driver rejects it.
    private func loadBinary(_ path: String, options: String) -> cl_program? {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return nil }
        var device: cl_device_id? = self.device
        var length = data.count
        var binaryStatus: cl_int = CL_SUCCESS
        var status: cl_int = CL_SUCCESS
        let created: cl_program? = data.withUnsafeBytes { bytes in
            var pointer: UnsafePointer<UInt8>? = bytes.bindMemory(to: UInt8.self).baseAddress
            return clCreateProgramWithBinary(context, 1, &device, &length, &pointer, &binaryStatus, &status)
        }
        guard let program = created else { return nil }
        guard status == CL_SUCCESS, binaryStatus == CL_SUCCESS,
              clBuildProgram(program, 1, &device, options, nil, nil) == CL_SUCCESS else {
            clReleaseProgram(program)
            return nil
        }
        return program
    }

    /// Writes the program's device binary atomically (temporary file, then rename). Failures are
    /// ignored: the cache only saves build time.
    private func saveBinary(_ program: cl_program, to path: String) {
        var size = 0
        guard clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size,
                               &size, nil) == CL_SUCCESS, size > 0 else { return }
        var binary = [UInt8](repeating: 0, count: size)
        let status = binary.withUnsafeMutableBufferPointer { buffer in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARIES),
                                    MemoryLayout<UnsafeMutablePointer<UInt8>?>.size, &pointer, nil)
        }
        guard status == CL_SUCCESS else { return }
        try? Data(binary).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// FNV-1a 64 over the parts, each followed by a 0 byte so ("ab", "c") and ("a", "bc") differ.
    static func fnv1a64(_ parts: [String]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in parts {
            for byte in part.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
            hash = (hash ^ 0) &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
