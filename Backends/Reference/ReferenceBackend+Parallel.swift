// Parallel loops for the reference backend: split a range of independent items (rows, columns,
// (batch, head) pairs) into contiguous chunks and run them on Dispatch's worker threads.
// Each chunk writes only its own outputs, so no locks and no float atomics are needed, and results
// never depend on the thread count.

import Dispatch

extension ReferenceBackend {
    /// Calls `body` on contiguous sub-ranges covering `0..<count`, in parallel when worthwhile.
    /// `grain` is the smallest number of items worth a chunk of its own (small work stays inline).
    func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        // A few chunks per thread evens out uneven rows (causal attention, ragged tails).
        let chunks = min(threadCount * 4, count / max(grain, 1))
        guard threadCount > 1, chunks > 1 else {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            body(count * chunk / chunks ..< count * (chunk + 1) / chunks)
        }
    }

    /// A grain for rows of `width` elements: about 16K element-operations per chunk.
    func rowGrain(_ width: Int) -> Int { max(1, 16_384 / max(width, 1)) }
}
