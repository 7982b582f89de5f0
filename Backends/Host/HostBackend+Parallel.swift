// Parallel loops for the CPU backends: split a range of independent items (rows, columns, elements,
// (batch, head) pairs) into contiguous chunks and run them on the process's worker threads
// (WorkerPool.swift, which says why not Dispatch's). Each chunk writes only its own outputs, so no
// locks and no float atomics are needed; for a given thread count the chunks, and so the results,
// are always the same.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension HostBackend {
    /// Cores the operating system has online (the default thread count).
    public static var onlineCores: Int { WorkerPool.onlineCores }

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
        WorkerPool.shared.run(chunks: chunks, threads: threadCount) { chunk in
            body(chunk, count * chunk / chunks ..< count * (chunk + 1) / chunks)
        }
    }

    /// Runs `body(worker, workers)` once per worker, for `items` items the body divides among the
    /// workers itself (the BLAS attention gives each a contiguous block of (batch, head) pairs, all
    /// the same work: worker w's block holds the rows the pool's share w of the op before wrote).
    package func parallelWorkers(_ items: Int, _ body: (_ worker: Int, _ workers: Int) -> Void) {
        let workers = max(1, min(threadCount, items))
        if workers == 1 {
            body(0, 1)
            return
        }
        WorkerPool.shared.run(chunks: workers, threads: threadCount) { worker in body(worker, workers) }
    }
}
