// Work sizes for the BLAS backend's parallel loops (the loops themselves are HostMemory's): one big
// contiguous chunk per thread, once there is enough work to pay for waking the threads.

extension BLASBackend {
    /// Elements per chunk below which an elementwise op stays on the calling thread: waking a
    /// worker costs a few microseconds, about what 32K memory-bound Float operations take.
    static let elementGrain = 32_768

    /// Rows per chunk worth their own thread for rows of `width` elements (~32K elements).
    @inline(__always)
    func rowGrain(_ width: Int) -> Int { max(1, BLASBackend.elementGrain / max(width, 1)) }

    /// `parallelFor` over `count` elements in chunks that start on whole SIMD8 vectors (so a
    /// kernel's full-vector loop covers all of a chunk but the very last elements), `grain`
    /// elements at least.
    @inline(__always)
    func parallelVectors(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let vectors = (count + 7) / 8
        parallelFor(vectors, grain: max(1, grain / 8)) { range in
            body(range.lowerBound * 8 ..< min(count, range.upperBound * 8))
        }
    }

    /// HostMemory's `parallelWorkers`, but all on the calling thread when the whole op is
    /// `multiplyAdds` under one element grain: a vector kernel does that in a few microseconds,
    /// about what waking the workers would cost (a KV-cache step, a one-token sequence).
    @inline(__always)
    func parallelWorkers(_ items: Int, multiplyAdds: Int, _ body: (_ worker: Int, _ workers: Int) -> Void) {
        if multiplyAdds < BLASBackend.elementGrain {
            body(0, 1)
        } else {
            parallelWorkers(items, body)
        }
    }
}
