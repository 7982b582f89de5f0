// The memory refusal every command that allocates shares (train, generate, bench, profile,
// conformance): --memory-limit, declared once, and the check of a command's MemoryEstimate against
// that limit or the device's memory, made before the command allocates what it estimates.

import Compute
import GPT

extension CommonOptions {
    /// --memory-limit BYTES: what the memory estimate is checked against instead of the device.
    static func memoryLimit() -> Option<Int> {
        Option("memory-limit", .byteCount, documentedDefault: "the device's memory",
               help: "refuse work whose memory estimate exceeds this (e.g. 8G)")
    }
}

/// Refuses `estimate` when it exceeds `limit`, else `backend`'s memory (the host's for CPU
/// backends), as one line: "<work> needs about X but <device> holds Y; <hint>".
func checkMemory(_ estimate: @autoclosure () throws -> MemoryEstimate, backend: any Backend, limit: Int?,
                 work: String, hint: String) throws {
    do {
        try estimate().check(MemoryBudget.of(backend, limit: limit))
    } catch let error as MemoryError {
        throw RuntimeError("\(work) \(error); \(hint)")
    } catch let error as SizeOverflow {
        throw RuntimeError("\(work): \(error); \(hint)")
    }
}
