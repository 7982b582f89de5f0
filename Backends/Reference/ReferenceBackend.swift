// The reference backend: plain Swift on the CPU, every reduction accumulated in Double. It is the
// correctness oracle every other backend is checked against, so clarity beats speed here; the only
// concessions to speed are row-parallel loops (Dispatch) and a register-blocked matmul kernel.
//
// This file holds the buffer type, the backend class with its memory ops, and the plugin value.
// Each op family lives in its own `ReferenceBackend+Family.swift`.

import Compute
import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Host memory owned by the reference backend: one 64-byte-aligned allocation, freed on deinit.
public final class ReferenceBuffer: Buffer {
    /// Start of the allocation (at least 4 bytes, so a 0-element buffer still has a valid pointer).
    let storage: UnsafeMutableRawPointer

    init(count: Int, dtype: DType) {
        let bytes = max(count, 1) * dtype.byteSize
        storage = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        // Zeroed, although the contract says "undefined": runs are reproducible even when a caller
        // forgets to initialise something.
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        super.init(count: count, dtype: dtype, backendName: "reference")
    }

    deinit { storage.deallocate() }
}

public final class ReferenceBackend: Backend {
    public let name = "reference"
    /// How many pieces a parallel loop is split into at most (1: everything on the calling thread).
    public let threadCount: Int
    public var profiler: Profiler?

    /// `threads`: nil uses every online core.
    public init(threads: Int? = nil) {
        threadCount = max(1, threads ?? ReferenceBackend.onlineCores)
    }

    public var deviceDescription: String { "CPU, \(threadCount) threads" }

    static var onlineCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    // MARK: - Views to pointers

    /// The float32 storage behind `view`, after checking that it is ours and holds float32.
    func floats(_ op: String, _ what: String, _ view: BufferView) throws -> UnsafeMutablePointer<Float> {
        let buffer = try owned(op, what, view)
        try Check.dtype(op, what, view, .float32)
        return buffer.storage.assumingMemoryBound(to: Float.self) + view.offset
    }

    /// The int32 storage behind `view`, after checking that it is ours and holds int32.
    func int32s(_ op: String, _ what: String, _ view: BufferView) throws -> UnsafeMutablePointer<Int32> {
        let buffer = try owned(op, what, view)
        try Check.dtype(op, what, view, .int32)
        return buffer.storage.assumingMemoryBound(to: Int32.self) + view.offset
    }

    private func owned(_ op: String, _ what: String, _ view: BufferView) throws -> ReferenceBuffer {
        guard let buffer = view.buffer as? ReferenceBuffer else {
            throw BackendError.wrongBuffer(
                op: op, reason: "\(what) belongs to backend '\(view.buffer.backendName)', not 'reference'")
        }
        return buffer
    }

    // MARK: - Memory

    public func allocate(_ count: Int, _ dtype: DType) throws -> Buffer {
        guard count >= 0 else {
            throw BackendError.invalidArgument(op: "allocate", reason: "count must not be negative, got \(count)")
        }
        return ReferenceBuffer(count: count, dtype: dtype)
    }

    public func upload(_ values: [Float], to view: BufferView) throws {
        try Profiler.measure(profiler, "upload", shape: "n=\(view.count)", bytes: Double(4 * view.count)) {
            let destination = try floats("upload", "destination", view)
            try Check.count("upload", "destination", view, values.count)
            values.withUnsafeBufferPointer { source in
                if let base = source.baseAddress { destination.update(from: base, count: values.count) }
            }
        }
    }

    public func upload(_ values: [Int32], to view: BufferView) throws {
        try Profiler.measure(profiler, "upload", shape: "n=\(view.count) int32", bytes: Double(4 * view.count)) {
            let destination = try int32s("upload", "destination", view)
            try Check.count("upload", "destination", view, values.count)
            values.withUnsafeBufferPointer { source in
                if let base = source.baseAddress { destination.update(from: base, count: values.count) }
            }
        }
    }

    public func download(_ view: BufferView) throws -> [Float] {
        try Profiler.measure(profiler, "download", shape: "n=\(view.count)", bytes: Double(4 * view.count)) {
            let source = try floats("download", "source", view)
            return Array(UnsafeBufferPointer(start: source, count: view.count))
        }
    }

    public func downloadInt32(_ view: BufferView) throws -> [Int32] {
        try Profiler.measure(profiler, "download", shape: "n=\(view.count) int32", bytes: Double(4 * view.count)) {
            let source = try int32s("download", "source", view)
            return Array(UnsafeBufferPointer(start: source, count: view.count))
        }
    }

    public func copy(from source: BufferView, to destination: BufferView) throws {
        try Profiler.measure(profiler, "copy", shape: "n=\(source.count)", bytes: Double(8 * source.count)) {
            guard let from = source.buffer as? ReferenceBuffer, let to = destination.buffer as? ReferenceBuffer else {
                let other = source.buffer is ReferenceBuffer ? destination.buffer : source.buffer
                throw BackendError.wrongBuffer(
                    op: "copy", reason: "view belongs to backend '\(other.backendName)', not 'reference'")
            }
            guard source.dtype == destination.dtype else {
                throw BackendError.wrongBuffer(
                    op: "copy", reason: "source is \(source.dtype.rawValue) but destination is \(destination.dtype.rawValue)")
            }
            try Check.count("copy", "destination", destination, source.count)
            guard !source.overlaps(destination) else {
                throw BackendError.invalidArgument(op: "copy", reason: "source and destination overlap")
            }
            let size = source.dtype.byteSize
            (to.storage + destination.offset * size)
                .copyMemory(from: from.storage + source.offset * size, byteCount: source.count * size)
        }
    }

    public func fill(_ view: BufferView, with value: Float) throws {
        try Profiler.measure(profiler, "fill", shape: "n=\(view.count)", bytes: Double(4 * view.count)) {
            let destination = try floats("fill", "view", view)
            destination.update(repeating: value, count: view.count)
        }
    }

    /// Every op runs to completion before it returns.
    public func synchronize() throws {}
}

// MARK: - Plugin

extension ReferenceBackend {
    /// Registration for `gpt backends` and `--backend reference`: always available.
    public static let plugin = BackendPlugin(
        name: "reference",
        summary: "pure Swift on the CPU, Double accumulation: the correctness oracle",
        priority: 0,
        probe: { .available(devices: ["CPU, \(ReferenceBackend.onlineCores) threads"]) },
        make: { options in
            if let threads = options.threads, threads < 1 {
                throw BackendError.invalidArgument(
                    op: "reference", reason: "threads must be at least 1, got \(threads)")
            }
            return ReferenceBackend(threads: options.threads)
        })
}
