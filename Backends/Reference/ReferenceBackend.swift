// The reference backend: plain Swift on the CPU, every reduction accumulated in Double. It is the
// correctness oracle every other backend is checked against, so clarity beats speed here; the only
// concessions to speed are row-parallel loops (Dispatch) and a register-blocked matmul kernel.
//
// This file holds the backend class and the plugin value; buffers, memory ops and parallel loops
// come from HostMemory (shared with the BLAS backend). Each op family lives in its own
// `ReferenceBackend+Family.swift`.

import Compute
import HostMemory

/// The correctness oracle: plain Swift on the CPU, every reduction accumulated in Double. Host
/// memory from HostMemory; one op family per `ReferenceBackend+Family.swift` file.
public final class ReferenceBackend: HostBackend {
    /// Its registry name.
    public let name = "reference"
    /// How many pieces a parallel loop is split into at most (1: everything on the calling thread).
    public let threadCount: Int
    /// Four chunks per thread even out uneven rows (causal attention, ragged tails).
    public var chunksPerThread: Int { 4 }
    /// Attach one to record every checked op (timed with the monotonic clock).
    public var profiler: Profiler?

    /// `threads`: nil uses every online core.
    public init(threads: Int? = nil) {
        threadCount = max(1, threads ?? ReferenceBackend.onlineCores)
    }

    /// "CPU, N threads".
    public var deviceDescription: String { "CPU, \(threadCount) threads" }
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
            try checkHostDevice(options.device, backend: "reference")
            if let threads = options.threads, threads < 1 {
                throw BackendError.invalidArgument(
                    op: "reference", reason: "threads must be at least 1, got \(threads)")
            }
            return ReferenceBackend(threads: options.threads)
        })
}
