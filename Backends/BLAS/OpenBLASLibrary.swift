// OpenBLAS, loaded at run time on first use instead of being linked (COpenBLAS/OpenBLASLoader.c):
// a machine without libopenblas.so.0 still runs `gpt`, and only this backend reports itself
// unavailable, with the package to install. Loading late also lets the backend choose OpenBLAS's
// kernel family first: the library reads OPENBLAS_CORETYPE once, while it loads.

import COpenBLAS
import Compute

#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS as loaded into this process.
public struct OpenBLASStatus: Sendable {
    /// How the kernel family was decided.
    public enum Selection: Equatable, Sendable {
        /// The user's OPENBLAS_CORETYPE, which always wins.
        case user(String)
        /// Chosen from the CPU's features (OpenBLASKernelFamily) and passed as OPENBLAS_CORETYPE.
        case chosen(KernelFamilyChoice)
        /// Left to OpenBLAS (a CPU without AVX).
        case library
    }

    /// `openblas_get_config()`, e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64".
    public let configuration: String
    /// e.g. "0.3.21".
    public let version: String
    /// The kernel family in use (`openblas_get_corename()`), e.g. "Cooperlake".
    public let kernelFamily: String
    /// Whether the family was chosen by the user, by us (and why), or left to OpenBLAS.
    public let selection: Selection
    /// The file the library was loaded from.
    public let path: String

    /// e.g. "OpenBLAS 0.3.21, Cooperlake kernels (chosen for AVX-512 with BF16)".
    public var summary: String {
        let why: String
        switch selection {
        case let .user(value): why = "OPENBLAS_CORETYPE=\(value) set by the user"
        case let .chosen(choice):
            why = choice.family.lowercased() == kernelFamily.lowercased()
                ? "chosen for \(choice.reason)"
                : "asked for \(choice.family) (\(choice.reason)), which this OpenBLAS does not have"
        case .library: why = "OpenBLAS's own choice"
        }
        return "OpenBLAS \(version), \(kernelFamily) kernels (\(why))"
    }
}

enum OpenBLASLibrary {
    /// The loaded library, or why it could not be loaded. Evaluated once, on first use (Swift
    /// initialises globals lazily and exactly once, even across threads). $GPT_OPENBLAS_LIBRARY
    /// names a library file to use instead of the system's libopenblas.so.0 (e.g. a newer build).
    static let loaded: Result<OpenBLASStatus, BackendError> = load(cpu: .current)

    /// Throws `.unavailable` unless OpenBLAS is loaded; every path into it starts here.
    static func require() throws -> OpenBLASStatus { try loaded.get() }

    private static func load(cpu: CPUFeatures) -> Result<OpenBLASStatus, BackendError> {
        let selection: OpenBLASStatus.Selection
        if let value = getenv("OPENBLAS_CORETYPE") {
            selection = .user(String(cString: value))
        } else if let choice = OpenBLASKernelFamily.choose(for: cpu) {
            selection = .chosen(choice)
        } else {
            selection = .library
        }
        // Set only for the moment OpenBLAS initialises, so child processes see the user's environment.
        if case let .chosen(choice) = selection { setenv("OPENBLAS_CORETYPE", choice.family, 1) }
        // One thread: the backend splits the matmuls over its own workers (WorkerPool.swift), and
        // a thread pool OpenBLAS started at load would spin for its first ~0.1 s on the cores
        // those workers need. The user's value, if any, is left alone.
        let ownThreadCount = getenv("OPENBLAS_NUM_THREADS") == nil
        if ownThreadCount { setenv("OPENBLAS_NUM_THREADS", "1", 1) }
        var message = [CChar](repeating: 0, count: 512)
        let opened = gpt_openblas_load(getenv("GPT_OPENBLAS_LIBRARY"), &message, message.count) != 0
        if case .chosen = selection { unsetenv("OPENBLAS_CORETYPE") }
        if ownThreadCount { unsetenv("OPENBLAS_NUM_THREADS") }
        guard opened else {
            let reason = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            return .failure(.unavailable(
                backend: "blas", reason: "\(reason): apt-get install libopenblas0 (or your system's OpenBLAS package)"))
        }
        let configuration = text(openblas_get_config()) ?? "OpenBLAS"
        let words = configuration.split(separator: " ")
        return .success(OpenBLASStatus(
            configuration: configuration,
            version: words.count > 1 && words[0] == "OpenBLAS" ? String(words[1]) : "(unknown version)",
            kernelFamily: text(openblas_get_corename()) ?? "unknown",
            selection: selection,
            path: text(gpt_openblas_path()) ?? "libopenblas.so.0"))
    }

    private static func text(_ pointer: UnsafePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        let value = String(cString: pointer).split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
        return value.isEmpty ? nil : value
    }

    private static func text(_ pointer: UnsafeMutablePointer<CChar>?) -> String? { text(UnsafePointer(pointer)) }
}
