// The memory contract: allocation, host <-> device transfers, copy and fill, ownership of buffers.
// Transfers are bit-exact (no arithmetic). Profile records: "n=COUNT" (" int32" for int32 views);
// bytes moved: 4 per element for upload, download and fill, 8 for copy (read and write).

/// The memory family's requirements: allocation, transfers, copy and fill, and which buffers a
/// backend owns. A backend implements these; callers use the checked entry points below.
public protocol BackendMemory: AnyObject {
    /// A new buffer of `count` >= 0 elements; `allocate(_:_:)` after its check.
    func uncheckedAllocate(_ count: Int, _ dtype: DType) throws -> Buffer
    /// `upload(_:to:)` after its checks (owner, float32, `values.count == view.count`).
    func uncheckedUpload(_ values: [Float], to view: BufferView) throws
    /// `upload(_:to:)` for int32 values, after its checks.
    func uncheckedUpload(_ values: [Int32], to view: BufferView) throws
    /// `download(_:)` after its checks (owner, float32).
    func uncheckedDownload(_ view: BufferView) throws -> [Float]
    /// `downloadInt32(_:)` after its checks (owner, int32).
    func uncheckedDownloadInt32(_ view: BufferView) throws -> [Int32]
    /// `copy(from:to:)` after its checks (owners, same dtype and count, no overlap).
    func uncheckedCopy(from source: BufferView, to destination: BufferView) throws
    /// `fill(_:with:)` after its checks (owner, float32).
    func uncheckedFill(_ view: BufferView, with value: Float) throws
    /// Waits until all queued work has finished.
    func synchronize() throws
    /// Whether `buffer` is this backend's storage. Every checked op refuses a view of any other
    /// (`BackendError.wrongBuffer`), so requirements may assume their views are their own.
    func owns(_ buffer: Buffer) -> Bool
    /// The elements of an int32 view this backend owns, when it can read them on the host without
    /// a device round trip (host memory), else nil. The contract reads token ids and targets
    /// through it to reject out-of-range ones before an op runs.
    func hostInt32s(_ view: BufferView) -> UnsafeBufferPointer<Int32>?
    /// The elements of a float32 view this backend owns, when they live in host memory that the
    /// caller may read and write in place between ops (a CPU backend: every op has finished when
    /// it returns), else nil. Data-parallel training reduces gradients across processes through it
    /// without a copy; a device backend's gradients are downloaded instead.
    func hostFloats(_ view: BufferView) -> UnsafeMutableBufferPointer<Float>?
}

extension BackendMemory {
    /// Device memory: token ids cannot be read without a round trip.
    public func hostInt32s(_ view: BufferView) -> UnsafeBufferPointer<Int32>? { nil }
    /// Device memory: floats are reached only by upload and download.
    public func hostFloats(_ view: BufferView) -> UnsafeMutableBufferPointer<Float>? { nil }
}

extension Backend {
    /// A new buffer of `count` elements (contents undefined until written).
    public func allocate(_ count: Int, _ dtype: DType) throws -> Buffer {
        guard count >= 0 else {
            throw BackendError.invalidArgument(op: "allocate", reason: "count must not be negative, got \(count)")
        }
        return try uncheckedAllocate(count, dtype)
    }

    /// Host -> device. `values.count` must equal `view.count`; view must be float32.
    public func upload(_ values: [Float], to view: BufferView) throws {
        let check = try uploadCheck(values.count, view, .float32)
        try check.run(transferRecord(check, view)) { try uncheckedUpload(values, to: view) }
    }

    /// Host -> device for int32 views (tokens, targets).
    public func upload(_ values: [Int32], to view: BufferView) throws {
        let check = try uploadCheck(values.count, view, .int32)
        try check.run(transferRecord(check, view)) { try uncheckedUpload(values, to: view) }
    }

    /// Device -> host, waiting for queued work. View must be float32.
    public func download(_ view: BufferView) throws -> [Float] {
        let check = try OpCheck(.download, on: self)
        try check.owned("source", view, .float32)
        return try check.run(transferRecord(check, view)) { try uncheckedDownload(view) }
    }

    /// Device -> host for int32 views.
    public func downloadInt32(_ view: BufferView) throws -> [Int32] {
        let check = try OpCheck(.download, on: self)
        try check.owned("source", view, .int32)
        return try check.run(transferRecord(check, view)) { try uncheckedDownloadInt32(view) }
    }

    /// `destination = source` (same count, same dtype; must not overlap).
    public func copy(from source: BufferView, to destination: BufferView) throws {
        let check = try OpCheck(.copy, on: self)
        try check.owned("source", source, source.dtype)
        try check.owned("destination", destination, source.dtype)
        try check.count("destination", destination, source.count)
        try check.separate(("destination", destination), from: [("source", source)])
        try check.run(check.record(dtypeShape(source), bytes: 8 * Double(source.count))) {
            try uncheckedCopy(from: source, to: destination)
        }
    }

    /// Sets every element of a float32 view to `value`.
    public func fill(_ view: BufferView, with value: Float) throws {
        let check = try OpCheck(.fill, on: self)
        try check.owned("view", view, .float32)
        try check.run(check.record(dtypeShape(view), bytes: 4 * Double(view.count))) {
            try uncheckedFill(view, with: value)
        }
    }

    /// Allocates and uploads in one call.
    public func makeBuffer(_ values: [Float]) throws -> Buffer {
        let buffer = try allocate(values.count, .float32)
        try upload(values, to: buffer.all)
        return buffer
    }

    /// Allocates and uploads int32 values in one call.
    public func makeBuffer(_ values: [Int32]) throws -> Buffer {
        let buffer = try allocate(values.count, .int32)
        try upload(values, to: buffer.all)
        return buffer
    }

    private func uploadCheck(_ valueCount: Int, _ view: BufferView, _ dtype: DType) throws -> OpCheck<Self> {
        let check = try OpCheck(.upload, on: self)
        try check.owned("destination", view, dtype)
        try check.count("destination", view, valueCount)
        return check
    }

    /// An upload or download moves 4 bytes per element once.
    private func transferRecord(_ check: OpCheck<Self>, _ view: BufferView) -> OpRecord {
        check.record(dtypeShape(view), bytes: 4 * Double(view.count))
    }

    private func dtypeShape(_ view: BufferView) -> String {
        "n=\(view.count)" + (view.dtype == .int32 ? " int32" : "")
    }
}

extension ForwardingBackend {
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedAllocate(_ count: Int, _ dtype: DType) throws -> Buffer {
        try forwardee.uncheckedAllocate(count, dtype)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedUpload(_ values: [Float], to view: BufferView) throws {
        try forwardee.uncheckedUpload(values, to: view)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedUpload(_ values: [Int32], to view: BufferView) throws {
        try forwardee.uncheckedUpload(values, to: view)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedDownload(_ view: BufferView) throws -> [Float] { try forwardee.uncheckedDownload(view) }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedDownloadInt32(_ view: BufferView) throws -> [Int32] {
        try forwardee.uncheckedDownloadInt32(view)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedCopy(from source: BufferView, to destination: BufferView) throws {
        try forwardee.uncheckedCopy(from: source, to: destination)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedFill(_ view: BufferView, with value: Float) throws {
        try forwardee.uncheckedFill(view, with: value)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func synchronize() throws { try forwardee.synchronize() }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func owns(_ buffer: Buffer) -> Bool { forwardee.owns(buffer) }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func hostInt32s(_ view: BufferView) -> UnsafeBufferPointer<Int32>? { forwardee.hostInt32s(view) }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func hostFloats(_ view: BufferView) -> UnsafeMutableBufferPointer<Float>? { forwardee.hostFloats(view) }
}
