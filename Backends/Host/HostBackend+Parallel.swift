// Parallel loops for the CPU backends: split a range of independent items (rows, columns, elements,
// (batch, head) pairs) into contiguous chunks and run them on Dispatch's worker threads. Each chunk
// writes only its own outputs, so no locks and no float atomics are needed; for a given thread
// count the chunks, and so the results, are always the same.

import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension HostBackend {
    /// Cores the operating system has online (the default thread count).
    public static var onlineCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// How many chunks `parallelChunks(count, grain:)` uses (to size per-chunk scratch): at most
    /// `chunksPerThread` per thread, each holding at least `grain` items.
    package func chunkCount(_ count: Int, grain: Int) -> Int {
        guard threadCount > 1 else { return 1 }
        return max(1, min(threadCount * chunksPerThread, count / max(grain, 1)))
    }

    /// Calls `body` on contiguous sub-ranges covering `0..<count`, in parallel when worthwhile.
    /// `grain` is the smallest number of items worth a chunk of its own (small work stays inline:
    /// waking a worker costs a few microseconds).
    package func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        parallelChunks(count, grain: grain) { _, range in body(range) }
    }

    /// Like `parallelFor`, also passing the chunk index (0..<chunkCount(count, grain:)), for ops
    /// that keep per-chunk partial sums and reduce them afterwards in chunk order.
    package func parallelChunks(_ count: Int, grain: Int, _ body: (_ chunk: Int, _ range: Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = chunkCount(count, grain: grain)
        guard chunks > 1 else {
            body(0, 0..<count)
            return
        }
        Self.concurrentPerform(iterations: chunks) { chunk in
            body(chunk, count * chunk / chunks ..< count * (chunk + 1) / chunks)
        }
    }

    /// Runs `body(worker, workers)` once per worker; each worker takes items worker,
    /// worker + workers, ... of an uneven list (causal attention heads), which balances the load
    /// without a shared counter.
    package func parallelWorkers(_ items: Int, _ body: (_ worker: Int, _ workers: Int) -> Void) {
        let workers = max(1, min(threadCount, items))
        if workers == 1 {
            body(0, 1)
            return
        }
        Self.concurrentPerform(iterations: workers) { worker in body(worker, workers) }
    }

    /// `DispatchQueue.concurrentPerform` for an `iteration` that is not `Sendable`: the loops' bodies
    /// capture raw pointers into the op's buffers, which Swift cannot prove safe to share. What makes
    /// it safe is the loops' contract, not the types: each iteration writes only its own items, and
    /// `concurrentPerform` returns only after every iteration has finished, so `body` never outlives
    /// the call. This is the one place the CPU backends assert that (`nonisolated(unsafe)`); every
    /// parallel op goes through `parallelChunks` or `parallelWorkers` and keeps to that contract.
    private static func concurrentPerform(iterations: Int, _ iteration: (Int) -> Void) {
        withoutActuallyEscaping(iteration) { iteration in
            nonisolated(unsafe) let iteration = iteration
            DispatchQueue.concurrentPerform(iterations: iterations) { index in iteration(index) }
        }
    }
}
