// The BLAS backend: every matmul through OpenBLAS `cblas_sgemm`, every other op in vectorised
// (SIMD8<Float>), row-parallel Swift. Float32 storage and Float32 accumulation; the conformance
// suite checks it against the Double-accumulating reference backend within stated tolerances.
//
// This file holds the buffer type, the backend class with its memory ops, a reusable scratch arena
// and the plugin value. Each op family lives in its own `BLASBackend+Family.swift`.
//
// OpenBLAS is not linked: OpenBLASLibrary.swift opens libopenblas.so.0 on first use, after choosing
// its kernel family for this CPU (OpenBLASKernelFamily.swift), so a machine without it still runs
// the other backends.

import COpenBLAS
import Compute
import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Host memory owned by the BLAS backend: one 64-byte-aligned allocation (a cache line, and the
/// alignment AVX-512 loads like), zeroed so runs are reproducible, freed on deinit.
public final class BLASBuffer: Buffer {
    /// Start of the allocation (at least 4 bytes, so a 0-element buffer still has a valid pointer).
    let storage: UnsafeMutableRawPointer

    init(count: Int, dtype: DType) {
        let bytes = max(count, 1) * dtype.byteSize
        storage = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        super.init(count: count, dtype: dtype, backendName: "blas")
    }

    deinit { storage.deallocate() }
}

public final class BLASBackend: Backend {
    public let name = "blas"
    /// Pieces a parallel loop is split into at most (1: everything on the calling thread).
    public let threadCount: Int
    public var profiler: Profiler?
    /// The loaded OpenBLAS: version and kernel family.
    public let openBLAS: OpenBLASStatus

    /// Reusable Float scratch for ops that need temporaries (per-thread partial sums, attention
    /// tiles, RoPE tables). Grown on demand, never shrunk: no allocation in steady-state training.
    private var scratchBase: UnsafeMutablePointer<Float>?
    private var scratchCapacity = 0

    /// Cached RoPE cos/sin table and the arguments it was built for (see BLASBackend+Rope.swift).
    var ropeTable: RopeTable?

    /// `threads`: nil uses every online core. OpenBLAS is told the same count, so its own worker
    /// threads never outnumber the cores the Swift loops use. Throws `.unavailable` when OpenBLAS
    /// cannot be loaded.
    public init(threads: Int? = nil) throws {
        openBLAS = try OpenBLASLibrary.require()
        threadCount = max(1, threads ?? BLASBackend.onlineCores)
        openblas_set_num_threads(Int32(threadCount))
    }

    deinit { scratchBase?.deallocate() }

    public var deviceDescription: String { "CPU, \(threadCount) threads, \(openBLAS.summary)" }

    static var onlineCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// `count` Floats of scratch, valid until the next call to `scratch` (ops call it once, on the
    /// issuing thread, before any parallel region, and carve the region up themselves).
    func scratch(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > scratchCapacity || scratchBase == nil {
            scratchBase?.deallocate()
            let capacity = max(count, 1024)
            let raw = UnsafeMutableRawPointer.allocate(byteCount: capacity * 4, alignment: 64)
            scratchBase = raw.bindMemory(to: Float.self, capacity: capacity)
            scratchCapacity = capacity
        }
        return scratchBase!
    }

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

    private func owned(_ op: String, _ what: String, _ view: BufferView) throws -> BLASBuffer {
        guard let buffer = view.buffer as? BLASBuffer else {
            throw BackendError.wrongBuffer(
                op: op, reason: "\(what) belongs to backend '\(view.buffer.backendName)', not 'blas'")
        }
        return buffer
    }

    // MARK: - Memory

    public func allocate(_ count: Int, _ dtype: DType) throws -> Buffer {
        guard count >= 0 else {
            throw BackendError.invalidArgument(op: "allocate", reason: "count must not be negative, got \(count)")
        }
        return BLASBuffer(count: count, dtype: dtype)
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
            guard let from = source.buffer as? BLASBuffer, let to = destination.buffer as? BLASBuffer else {
                let other = source.buffer is BLASBuffer ? destination.buffer : source.buffer
                throw BackendError.wrongBuffer(
                    op: "copy", reason: "view belongs to backend '\(other.backendName)', not 'blas'")
            }
            guard source.dtype == destination.dtype else {
                throw BackendError.wrongBuffer(
                    op: "copy",
                    reason: "source is \(source.dtype.rawValue) but destination is \(destination.dtype.rawValue)")
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
            parallelFor(view.count, grain: BLASBackend.elementGrain) { range in
                (destination + range.lowerBound).update(repeating: value, count: range.count)
            }
        }
    }

    /// Every op runs to completion before it returns.
    public func synchronize() throws {}
}

// MARK: - Plugin

extension BLASBackend {
    /// Registration for `gpt backends` and `--backend blas`. Probing loads OpenBLAS (once per
    /// process), so the probe's answer is the real one: where libopenblas.so.0 is missing the
    /// backend is unavailable and says which package to install.
    public static let plugin = BackendPlugin(
        name: "blas",
        summary: "CPU: OpenBLAS cblas_sgemm for matmuls, vectorised multi-threaded Swift for the rest",
        priority: 10,
        probe: {
            switch OpenBLASLibrary.loaded {
            case let .success(status):
                return .available(devices: ["CPU, \(BLASBackend.onlineCores) threads, \(status.summary)"])
            case let .failure(error):
                if case let .unavailable(_, reason) = error { return .unavailable(reason: reason) }
                return .unavailable(reason: error.description)
            }
        },
        make: { options in
            if let threads = options.threads, threads < 1 {
                throw BackendError.invalidArgument(op: "blas", reason: "threads must be at least 1, got \(threads)")
            }
            return try BLASBackend(threads: options.threads)
        },
        notes: { overrideNote() })

    /// One line when the kernel family differs from what OpenBLAS would have chosen by itself.
    static func overrideNote() -> [String] {
        guard case let .success(status) = OpenBLASLibrary.loaded, case .chosen = status.selection,
              let own = OpenBLASOwnChoice.family(libraryPath: status.path),
              own.lowercased() != status.kernelFamily.lowercased() else { return [] }
        return ["OpenBLAS \(status.version) alone would run its \(own) kernels on this CPU "
                + "(\(CPUFeatures.current)); the backend set OPENBLAS_CORETYPE=\(status.kernelFamily) "
                + "while loading it (set OPENBLAS_CORETYPE yourself to choose another)"]
    }
}
