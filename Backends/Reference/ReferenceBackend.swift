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

    // MARK: - Views to pointers (the contract has checked owner and dtype)

    /// The float32 storage behind `view`.
    func floats(_ view: BufferView) -> UnsafeMutablePointer<Float> {
        unsafeDowncast(view.buffer, to: ReferenceBuffer.self).storage.assumingMemoryBound(to: Float.self) + view.offset
    }

    /// The int32 storage behind `view`.
    func int32s(_ view: BufferView) -> UnsafeMutablePointer<Int32> {
        unsafeDowncast(view.buffer, to: ReferenceBuffer.self).storage.assumingMemoryBound(to: Int32.self) + view.offset
    }

    // MARK: - Memory

    public func owns(_ buffer: Buffer) -> Bool { buffer is ReferenceBuffer }

    public func hostInt32s(_ view: BufferView) -> UnsafeBufferPointer<Int32>? {
        UnsafeBufferPointer(start: int32s(view), count: view.count)
    }

    public func uncheckedAllocate(_ count: Int, _ dtype: DType) throws -> Buffer {
        ReferenceBuffer(count: count, dtype: dtype)
    }

    public func uncheckedUpload(_ values: [Float], to view: BufferView) throws {
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { floats(view).update(from: base, count: values.count) }
        }
    }

    public func uncheckedUpload(_ values: [Int32], to view: BufferView) throws {
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { int32s(view).update(from: base, count: values.count) }
        }
    }

    public func uncheckedDownload(_ view: BufferView) throws -> [Float] {
        Array(UnsafeBufferPointer(start: floats(view), count: view.count))
    }

    public func uncheckedDownloadInt32(_ view: BufferView) throws -> [Int32] {
        Array(UnsafeBufferPointer(start: int32s(view), count: view.count))
    }

    public func uncheckedCopy(from source: BufferView, to destination: BufferView) throws {
        let size = source.dtype.byteSize
        let from = unsafeDowncast(source.buffer, to: ReferenceBuffer.self).storage + source.offset * size
        let to = unsafeDowncast(destination.buffer, to: ReferenceBuffer.self).storage + destination.offset * size
        to.copyMemory(from: from, byteCount: source.count * size)
    }

    public func uncheckedFill(_ view: BufferView, with value: Float) throws {
        floats(view).update(repeating: value, count: view.count)
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
