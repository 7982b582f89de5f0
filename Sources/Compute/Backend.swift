// The Backend protocol: everything a decoder-only GPT needs to train and run, forward and backward.
// Its doc comment below (the conventions and the dimension letters) is the one statement of them.

/// A compute device: everything a decoder-only GPT needs to train and run, forward and backward.
///
/// Dimension letters used in every doc comment, kernel and model file:
///   B = batch size, T = sequence length, C = channels (embedding dim), NH = (query) heads,
///   hs = head size (C = NH * hs), KVH = key/value heads (grouped-query attention: NH % KVH == 0,
///   KVH = NH without grouping), F = FFN hidden size, V = vocabulary size, N = rows (usually B * T).
/// All matrices are row-major. All views are contiguous element ranges (`BufferView`).
///
/// Two layers, like `Range(uncheckedBounds:)` beside `Range(_:)`:
/// - The contract (Contract/*.swift, one file per op family) is a public checked entry point per op
///   in `extension Backend`: `matmul(c:a:b:...)`, `layerNormForward(out:mean:rstd:...)`, ... Every
///   caller uses these. Each validates its arguments once (owner, dtype, counts, sizes, ranges,
///   aliasing), answers `supports(_:)`, builds the op's profile record when a profiler is attached,
///   then calls the backend's requirement. Its doc comment is the op's contract: math, shapes, and
///   whether it OVERWRITES or ACCUMULATES (+=) its outputs. Bad arguments throw `BackendError`
///   before anything runs; nothing is written.
/// - The requirements (`uncheckedMatmul(...)`, ...) are what a backend implements. They run only
///   after the checks, so a backend only computes.
///
/// Conventions every backend keeps (the conformance suite checks them):
/// - Outputs come first and are caller-allocated; ops never allocate in the hot path.
/// - Weight-gradient outputs accumulate (the trainer zeroes gradients once per step); activation
///   gradients say which they do.
/// - Ops may run asynchronously; `download` and `synchronize` wait for everything queued before them.
/// - Float32 storage. The reference backend accumulates dot products and reductions in Double.
/// - A backend is used from one thread at a time (it is a class, not `Sendable`); it may use many
///   threads inside one op.
public protocol Backend: AnyObject, BackendMemory, BackendMatmul, BackendElementwise, BackendEmbedding,
    BackendNorms, BackendActivations, BackendPositions, BackendAttention, BackendSoftmax, BackendOptimizer {
    // MARK: - Identity

    /// Registry name: "reference", "blas", "opencl".
    var name: String { get }
    /// Human-readable device, e.g. "CPU, 2 threads" or "NVIDIA H100 (OpenCL 3.0)".
    var deviceDescription: String { get }
    /// Whether `op` can run here; `.unsupported(reason)` feeds `gpt backends` and conformance, and
    /// the checked entry point throws it before running. Default: everything is supported.
    func supports(_ op: Op) -> Support
    /// Bytes of memory the device can hold (optional: nil when unknown; the CLI then assumes the
    /// host's physical RAM, which is exact for CPU backends). Used to refuse runs that cannot fit.
    var memoryCapacity: Int? { get }

    // MARK: - Profiling

    /// When set, every checked op records one event into it. Nil costs nothing: the record is
    /// never built.
    var profiler: Profiler? { get set }
    /// Runs one checked op's unchecked call `body` and records `record` into `profiler` with the
    /// time it took. The default times `body` with the monotonic clock, which is exact for
    /// synchronous (CPU) backends. A backend that queues work instead takes over: it attributes the
    /// device time of the commands `body` enqueued to `record` (see the OpenCL backend).
    func timeOp<Result>(_ record: OpRecord, profiler: Profiler, _ body: () throws -> Result) throws -> Result
}

extension Backend {
    /// Unknown by default: the CLI then assumes the host's physical RAM.
    public var memoryCapacity: Int? { nil }

    /// Every op supported unless a backend says otherwise.
    public func supports(_ op: Op) -> Support { .supported }

    /// Wall time around the call: ops on a synchronous backend have finished when it returns.
    public func timeOp<Result>(_ record: OpRecord, profiler: Profiler,
                               _ body: () throws -> Result) throws -> Result {
        let start = profiler.now()
        let result = try body()
        profiler.record(ProfileEvent(record, start: start, seconds: profiler.now() - start))
        return result
    }
}
