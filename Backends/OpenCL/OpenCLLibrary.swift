// The OpenCL ICD loader, opened at run time on first use instead of being linked (see
// COpenCL/OpenCLLoader.c): a machine without libOpenCL.so.1 still runs `gpt`, and this backend
// alone reports itself unavailable, saying which package to install.

import COpenCL
import Compute

#if canImport(Glibc)
import Glibc
#endif

enum OpenCLLibrary {
    /// Why the loader could not be opened, or nil once every entry point is resolved. Evaluated
    /// once, on first use (Swift initialises globals lazily and exactly once, even across threads).
    /// $GPT_OPENCL_LIBRARY names a loader file to use instead of the system's libOpenCL.so.1.
    static let failure: String? = {
        var message = [CChar](repeating: 0, count: 512)
        guard gpt_opencl_load(getenv("GPT_OPENCL_LIBRARY"), &message, message.count) == 0 else { return nil }
        let reason = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return "\(reason): install the ICD loader (apt-get install ocl-icd-libopencl1) and a driver "
            + "(e.g. pocl-opencl-icd for CPUs, or the GPU vendor's OpenCL package)"
    }()

    /// Throws `.unavailable` unless the loader is open. Every path into OpenCL passes through
    /// device discovery, which calls this first.
    static func require() throws {
        if let failure { throw BackendError.unavailable(backend: "opencl", reason: failure) }
    }
}
