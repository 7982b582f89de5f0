// One error type for every backend. Each message is one line and starts with the op or call.

/// What every backend and every checked entry point throws. `description` is one line that starts
/// with the op or call that failed, ready for the CLI to print as is.
public enum BackendError: Error, CustomStringConvertible, Equatable {
    /// The backend does not implement `op` (or not for these arguments).
    case unsupported(op: String, backend: String, reason: String)
    /// Sizes or counts that do not fit together.
    case shapeMismatch(op: String, expected: String, got: String)
    /// An argument outside its domain (a token id >= vocabulary, a negative size, ...).
    case invalidArgument(op: String, reason: String)
    /// A view belongs to another backend, or has the wrong dtype.
    case wrongBuffer(op: String, reason: String)
    /// An allocation the device cannot satisfy.
    case outOfMemory(backend: String, bytes: Int, reason: String)
    /// A failed OpenCL call: its name and the status code's name.
    case openCL(call: String, status: String, context: String)
    /// A kernel that did not compile, with its build log.
    case kernelBuild(kernel: String, log: String)
    /// The backend cannot be created (no device, missing library, ...).
    case unavailable(backend: String, reason: String)

    /// One line: the op or call, then what went wrong (a kernel's build log folded to 20 lines).
    public var description: String {
        switch self {
        case let .unsupported(op, backend, reason):
            return "\(op): not supported by backend '\(backend)': \(reason)"
        case let .shapeMismatch(op, expected, got):
            return "\(op): shape mismatch: expected \(expected), got \(got)"
        case let .invalidArgument(op, reason):
            return "\(op): \(reason)"
        case let .wrongBuffer(op, reason):
            return "\(op): \(reason)"
        case let .outOfMemory(backend, bytes, reason):
            return "allocate: backend '\(backend)' cannot allocate \(bytes) bytes: \(reason)"
        case let .openCL(call, status, context):
            return "\(call): OpenCL error \(status)\(context.isEmpty ? "" : " (\(context))")"
        case let .kernelBuild(kernel, log):
            let oneLine = log.split(whereSeparator: \.isNewline).prefix(20).joined(separator: " | ")
            return "\(kernel): kernel build failed: \(oneLine)"
        case let .unavailable(backend, reason):
            return "backend '\(backend)' is unavailable: \(reason)"
        }
    }
}
