// Parallel loops for the BLAS backend: split a range of independent items (rows, columns, elements,
// (batch, head) pairs) into a few big contiguous chunks, one or two per thread, and run them on
// Dispatch's worker threads. Each chunk writes only its own outputs: no locks, no float atomics.

import Dispatch

extension BLASBackend {
    /// Elements per chunk below which an elementwise op stays on the calling thread: waking a
    /// worker costs a few microseconds, about what 32K memory-bound Float operations take.
    static let elementGrain = 32_768

    /// Calls `body` on contiguous sub-ranges covering `0..<count`, at most one chunk per thread,
    /// each holding at least `grain` items (small work stays inline: no dispatch overhead).
    @inline(__always)
    func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(threadCount, count / max(grain, 1))
        guard chunks > 1 else {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            body(count * chunk / chunks ..< count * (chunk + 1) / chunks)
        }
    }

    /// How many chunks `parallelChunks(count, grain:)` will use (to size per-chunk scratch).
    @inline(__always)
    func chunkCount(_ count: Int, grain: Int) -> Int {
        max(1, min(threadCount, count / max(grain, 1)))
    }

    /// Like `parallelFor`, also passing the chunk index (0..<chunkCount(count, grain:)), for ops
    /// that keep per-chunk partial sums and reduce them afterwards in chunk order.
    @inline(__always)
    func parallelChunks(_ count: Int, grain: Int, _ body: (_ chunk: Int, _ range: Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = chunkCount(count, grain: grain)
        guard chunks > 1 else {
            body(0, 0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            body(chunk, count * chunk / chunks ..< count * (chunk + 1) / chunks)
        }
    }

    /// Runs `body(worker, workers)` once per worker; each worker takes items
    /// worker, worker + workers, ... of an uneven list (causal attention heads), which balances
    /// the load without a shared counter.
    func parallelWorkers(_ items: Int, _ body: (_ worker: Int, _ workers: Int) -> Void) {
        let workers = max(1, min(threadCount, items))
        if workers == 1 {
            body(0, 1)
            return
        }
        DispatchQueue.concurrentPerform(iterations: workers) { worker in body(worker, workers) }
    }

    /// Rows per chunk worth their own thread for rows of `width` elements (~32K elements).
    @inline(__always)
    func rowGrain(_ width: Int) -> Int { max(1, BLASBackend.elementGrain / max(width, 1)) }
}
