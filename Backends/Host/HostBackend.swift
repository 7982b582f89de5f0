// What the two CPU backends share: buffers in host memory and the memory requirements on them
// (allocate, upload, download, copy, fill; synchronize is a no-op because every op has finished
// when it returns), ownership, host access to int32 views for the contract's token checks and to
// float32 views for host-side collectives, and the parallel loops (Host+Parallel.swift). A CPU
// backend conforms to `HostBackend` and implements only its ops.

import Compute

/// A CPU backend: buffers in host memory (`HostBuffer`), with the memory requirements, ownership
/// and host access implemented here once, and the parallel loops. A conforming type implements
/// only its ops.
public protocol HostBackend: Backend {
    /// Pieces a parallel loop is split into at most, per thread count (1: everything inline).
    var threadCount: Int { get }
    /// Chunks per thread a parallel loop aims for: more evens out uneven work, fewer wakes fewer
    /// threads. Default 1.
    var chunksPerThread: Int { get }
}

/// `--device` for a CPU backend, which has one device: nil, "0" or a case-insensitive part of
/// "cpu" names it; anything else is an error (instead of being silently ignored).
public func checkHostDevice(_ selector: String?, backend: String) throws {
    guard let selector else { return }
    if selector == "0" || (!selector.isEmpty && "cpu".contains(selector.lowercased())) { return }
    throw BackendError.invalidArgument(
        op: backend, reason: "no device '\(selector)': the \(backend) backend has one device, 0 (the CPU); "
            + "give --device 0 or leave it out")
}

extension HostBackend {
    /// One chunk per thread unless the backend says otherwise.
    public var chunksPerThread: Int { 1 }

    /// Only `HostBuffer`s this backend (by `name`) allocated: another CPU backend's are refused.
    public func owns(_ buffer: Buffer) -> Bool { buffer is HostBuffer && buffer.backendName == name }

    /// The view's memory, read-only: host-side token checks read it in place.
    public func hostInt32s(_ view: BufferView) -> UnsafeBufferPointer<Int32>? {
        UnsafeBufferPointer(start: view.hostInt32s, count: view.count)
    }

    /// Only float32 views of this backend's own buffers (the caller has not been checked by a contract).
    public func hostFloats(_ view: BufferView) -> UnsafeMutableBufferPointer<Float>? {
        guard owns(view.buffer), view.dtype == .float32 else { return nil }
        return UnsafeMutableBufferPointer(start: view.hostFloats, count: view.count)
    }

    /// A zeroed, 64-byte-aligned `HostBuffer`.
    public func uncheckedAllocate(_ count: Int, _ dtype: DType) throws -> Buffer {
        HostBuffer(count: count, dtype: dtype, owner: name)
    }

    /// Copies `values` into the view (ops are synchronous, so it is done on return).
    public func uncheckedUpload(_ values: [Float], to view: BufferView) throws {
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { view.hostFloats.update(from: base, count: values.count) }
        }
    }

    /// Copies `values` into the int32 view.
    public func uncheckedUpload(_ values: [Int32], to view: BufferView) throws {
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { view.hostInt32s.update(from: base, count: values.count) }
        }
    }

    /// A copy of the view's floats.
    public func uncheckedDownload(_ view: BufferView) throws -> [Float] {
        Array(UnsafeBufferPointer(start: view.hostFloats, count: view.count))
    }

    /// A copy of the view's int32s.
    public func uncheckedDownloadInt32(_ view: BufferView) throws -> [Int32] {
        Array(UnsafeBufferPointer(start: view.hostInt32s, count: view.count))
    }

    /// Copies the bytes (either dtype); the contract keeps the views apart.
    public func uncheckedCopy(from source: BufferView, to destination: BufferView) throws {
        destination.hostBytes.copyMemory(from: source.hostBytes, byteCount: source.count * source.dtype.byteSize)
    }

    /// Writes `value` to every element, in parallel for large views.
    public func uncheckedFill(_ view: BufferView, with value: Float) throws {
        let destination = view.hostFloats
        parallelFor(view.count, grain: 32_768) { range in
            (destination + range.lowerBound).update(repeating: value, count: range.count)
        }
    }

    /// Every op runs to completion before it returns.
    public func synchronize() throws {}
}
