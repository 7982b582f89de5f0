// The BLAS backend: every matmul through OpenBLAS `cblas_sgemm`, every other op in vectorised
// (SIMD8<Float>), row-parallel Swift. Float32 storage and Float32 accumulation; the conformance
// suite checks it against the Double-accumulating reference backend within stated tolerances.
//
// This file holds the backend class, a reusable scratch arena and the plugin value; buffers, memory
// ops and parallel loops come from HostMemory (shared with the reference backend). Each op family
// lives in its own `BLASBackend+Family.swift`.
//
// OpenBLAS is linked at build time (system-library target CBLAS, pkg-config `openblas`, Debian
// package libopenblas-dev). A binary built with it needs libopenblas.so.0 at run time; the probe
// below therefore only fails if the library reports no configuration at all.

import CBLAS
import Compute
import HostMemory

public final class BLASBackend: HostBackend {
    public let name = "blas"
    /// Pieces a parallel loop is split into at most (1: everything on the calling thread).
    public let threadCount: Int
    public var profiler: Profiler?

    /// Reusable Float scratch for ops that need temporaries (per-thread partial sums, attention
    /// tiles, RoPE tables). Grown on demand, never shrunk: no allocation in steady-state training.
    private var scratchBase: UnsafeMutablePointer<Float>?
    private var scratchCapacity = 0

    /// Cached RoPE cos/sin table and the arguments it was built for (see BLASBackend+Rope.swift).
    var ropeTable: RopeTable?

    /// `threads`: nil uses every online core. OpenBLAS is told the same count, so its own worker
    /// threads never outnumber the cores the Swift loops use.
    public init(threads: Int? = nil) {
        threadCount = max(1, threads ?? BLASBackend.onlineCores)
        openblas_set_num_threads(Int32(threadCount))
    }

    deinit { scratchBase?.deallocate() }

    public var deviceDescription: String {
        "CPU, \(threadCount) threads, \(BLASBackend.openBLASConfiguration)"
    }

    /// OpenBLAS's own description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64".
    static var openBLASConfiguration: String {
        guard let config = openblas_get_config() else { return "OpenBLAS" }
        let text = String(cString: config).trimmingSpaces()
        return text.isEmpty ? "OpenBLAS" : text
    }

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
}

// MARK: - Plugin

extension BLASBackend {
    /// Registration for `gpt backends` and `--backend blas`.
    ///
    /// OpenBLAS is a link-time dependency: where libopenblas is missing the build (or the dynamic
    /// loader) fails before this probe can run, with the hint from Package.swift's provider
    /// (`apt-get install libopenblas-dev`). The probe still guards against a library that answers
    /// without a configuration string.
    public static let plugin = BackendPlugin(
        name: "blas",
        summary: "CPU: OpenBLAS cblas_sgemm for matmuls, vectorised multi-threaded Swift for the rest",
        priority: 10,
        probe: {
            guard openblas_get_config() != nil else {
                return .unavailable(reason: "OpenBLAS not found: apt-get install libopenblas-dev")
            }
            return .available(devices: [
                "CPU, \(BLASBackend.onlineCores) threads, \(BLASBackend.openBLASConfiguration)",
            ])
        },
        make: { options in
            if let threads = options.threads, threads < 1 {
                throw BackendError.invalidArgument(op: "blas", reason: "threads must be at least 1, got \(threads)")
            }
            return BLASBackend(threads: options.threads)
        })
}

extension String {
    /// The string without leading and trailing spaces and newlines (no Foundation needed).
    fileprivate func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }),
              let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
