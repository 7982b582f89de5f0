// The BLAS backend: every matmul through OpenBLAS `cblas_sgemm`, every other op in vectorised
// (SIMD8<Float>), row-parallel Swift. Float32 storage and Float32 accumulation; the conformance
// suite checks it against the Double-accumulating reference backend within stated tolerances. The
// hottest loops (GELU, SwiGLU, dropout, AdamW, fused attention with its own small products) are
// BLASKernels' generic kernels, run in the build the CPU allows: AVX2+FMA or portable
// (BLASBackend+Kernels.swift).
//
// This file holds the backend class, a reusable scratch arena and the plugin value; buffers, memory
// ops and parallel loops come from HostMemory (shared with the reference backend). Each op family
// lives in its own `BLASBackend+Family.swift`.
//
// OpenBLAS is not linked: OpenBLASLibrary.swift opens libopenblas.so.0 on first use, after choosing
// its kernel family for this CPU (OpenBLASKernelFamily.swift), so a machine without it still runs
// the other backends.

import COpenBLAS
import Compute
import HostMemory

/// The CPU backend for speed: every matmul through OpenBLAS `cblas_sgemm` (loaded at run time),
/// every other op in vectorised, row-parallel Swift, all in Float32. Host memory from HostMemory;
/// one op family per `BLASBackend+Family.swift` file.
public final class BLASBackend: HostBackend {
    /// Its registry name.
    public let name = "blas"
    /// Pieces a parallel loop is split into at most (1: everything on the calling thread).
    public let threadCount: Int
    /// Attach one to record every checked op (timed with the monotonic clock).
    public var profiler: Profiler?
    /// The loaded OpenBLAS: version and kernel family.
    public let openBLAS: OpenBLASStatus
    /// The build of the vector kernels this backend runs.
    public let kernels: VectorKernels

    /// Reusable Float scratch for ops that need temporaries (per-thread partial sums, attention
    /// tiles, RoPE tables). Grown on demand, never shrunk: no allocation in steady-state training.
    private var scratchBase: UnsafeMutablePointer<Float>?
    private var scratchCapacity = 0

    /// Cached RoPE cos/sin table and the arguments it was built for (see BLASBackend+Rope.swift).
    var ropeTable: RopeTable?

    /// `threads`: nil uses every online core. OpenBLAS is told to use one: the matmuls are split
    /// over the backend's own worker threads (BLASBackend+Matmul.swift), so OpenBLAS's workers,
    /// which spin after each call, never compete with them for the cores. `kernels`: nil runs the
    /// fastest build of the vector kernels this CPU can run (or GPT_BLAS_KERNELS's). Throws
    /// `.unavailable` when OpenBLAS cannot be loaded or the CPU cannot run the requested build.
    public init(threads: Int? = nil, kernels: VectorKernels.Build? = nil) throws {
        openBLAS = try OpenBLASLibrary.require()
        self.kernels = try VectorKernels.choose(kernels, on: .current)
        threadCount = max(1, threads ?? BLASBackend.onlineCores)
        openblas_set_num_threads(1)
    }

    deinit { scratchBase?.deallocate() }

    /// "CPU, N threads, " then `openBLAS.summary` (the loaded OpenBLAS: version, kernel family),
    /// then the build of the vector kernels in use.
    public var deviceDescription: String {
        "CPU, \(threadCount) threads, \(openBLAS.summary), \(kernels.build.rawValue) vector kernels"
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
                let kernels = ((try? VectorKernels.choose(nil, on: .current))?.build ?? .portable).rawValue
                return .available(devices: ["CPU, \(BLASBackend.onlineCores) threads, \(status.summary), "
                                            + "\(kernels) vector kernels"])
            case let .failure(error):
                if case let .unavailable(_, reason) = error { return .unavailable(reason: reason) }
                return .unavailable(reason: error.description)
            }
        },
        make: { options in
            try checkHostDevice(options.device, backend: "blas")
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
