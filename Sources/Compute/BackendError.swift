// One error type for every backend. Each message is one line and starts with the op or call.

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

/// Shape checks shared by every backend, so each reports mismatches the same way.
public enum Check {
    /// Throws unless `view.count == expected`.
    public static func count(_ op: String, _ what: String, _ view: BufferView, _ expected: Int) throws {
        guard view.count == expected else {
            throw BackendError.shapeMismatch(op: op, expected: "\(what) of \(expected) elements",
                                             got: "\(view.count)")
        }
    }

    /// Throws unless `view.count >= expected` (for outputs that may be larger than needed).
    public static func atLeast(_ op: String, _ what: String, _ view: BufferView, _ expected: Int) throws {
        guard view.count >= expected else {
            throw BackendError.shapeMismatch(op: op, expected: "\(what) of at least \(expected) elements",
                                             got: "\(view.count)")
        }
    }

    /// Throws unless every size is positive.
    public static func positive(_ op: String, _ sizes: KeyValuePairs<String, Int>) throws {
        for (name, value) in sizes where value <= 0 {
            throw BackendError.invalidArgument(op: op, reason: "\(name) must be positive, got \(value)")
        }
    }

    /// The argument contract of `ropeForward`/`ropeBackward`: positive sizes, an even head size,
    /// the rotated heads inside each row, a valid position offset and base, and a view long enough
    /// for the last rotated row.
    public static func rope(_ op: String, _ view: BufferView, rows: Int, sequenceLength: Int, rowStride: Int,
                            heads: Int, headDim: Int, theta: Float, positionOffset: Int) throws {
        try positive(op, ["rows": rows, "sequenceLength": sequenceLength, "rowStride": rowStride,
                          "heads": heads, "headDim": headDim])
        guard headDim % 2 == 0 else {
            throw BackendError.invalidArgument(op: op, reason: "headDim must be even, got \(headDim)")
        }
        guard heads * headDim <= rowStride else {
            throw BackendError.shapeMismatch(op: op, expected: "heads*headDim <= rowStride \(rowStride)",
                                             got: "\(heads)*\(headDim)")
        }
        guard positionOffset >= 0, theta > 0 else {
            throw BackendError.invalidArgument(
                op: op, reason: "positionOffset must be >= 0 and theta > 0, got \(positionOffset), \(theta)")
        }
        try atLeast(op, "x", view, (rows - 1) * rowStride + heads * headDim)
    }

    /// Throws unless the view holds `dtype`.
    public static func dtype(_ op: String, _ what: String, _ view: BufferView, _ dtype: DType) throws {
        guard view.dtype == dtype else {
            throw BackendError.wrongBuffer(op: op, reason: "\(what) must be \(dtype.rawValue), got \(view.dtype.rawValue)")
        }
    }
}
