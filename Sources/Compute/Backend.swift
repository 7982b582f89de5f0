// The Backend protocol: everything a decoder-only GPT needs to train and run, forward and backward.
//
// Dimension letters used in every doc comment, kernel and model file:
//   B = batch size, T = sequence length, C = channels (embedding dim), NH = heads, hs = head size
//   (C = NH * hs), F = FFN hidden size, V = vocabulary size, N = rows (usually B * T).
// All matrices are row-major. All views are contiguous element ranges (`BufferView`).
//
// Conventions (the contract every backend keeps; the conformance suite checks them):
// - Outputs come first and are caller-allocated; ops never allocate in the hot path.
// - Each op says whether it OVERWRITES or ACCUMULATES (+=) its outputs. Weight-gradient outputs
//   accumulate (the trainer zeroes gradients once per step); activation gradients say which.
// - Ops may run asynchronously; `download` and `synchronize` wait for everything queued before them.
// - Float32 storage. The reference backend accumulates dot products and reductions in Double.
// - An op a backend cannot run throws `BackendError.unsupported`; `supports(_:)` answers beforehand.

public protocol Backend: AnyObject {
    // MARK: - Identity

    /// Registry name: "reference", "blas", "opencl".
    var name: String { get }
    /// Human-readable device, e.g. "CPU, 2 threads" or "NVIDIA H100 (OpenCL 3.0)".
    var deviceDescription: String { get }
    /// When set, every op records (name, shape, duration) into it. Optional: nil costs nothing.
    var profiler: Profiler? { get set }
    /// Whether `op` can run here; `.unsupported(reason)` feeds `gpt backends` and conformance.
    func supports(_ op: Op) -> Support
    /// Bytes of memory the device can hold (optional: nil when unknown; the CLI then assumes the
    /// host's physical RAM, which is exact for CPU backends). Used to refuse runs that cannot fit.
    var memoryCapacity: Int? { get }

    // MARK: - Memory

    /// A new buffer of `count` elements (contents undefined until written).
    func allocate(_ count: Int, _ dtype: DType) throws -> Buffer
    /// Host -> device. `values.count` must equal `view.count`; view must be float32.
    func upload(_ values: [Float], to view: BufferView) throws
    /// Host -> device for int32 views (tokens, targets).
    func upload(_ values: [Int32], to view: BufferView) throws
    /// Device -> host, waiting for queued work. View must be float32.
    func download(_ view: BufferView) throws -> [Float]
    /// Device -> host for int32 views.
    func downloadInt32(_ view: BufferView) throws -> [Int32]
    /// `destination = source` (same count, same dtype; must not overlap).
    func copy(from source: BufferView, to destination: BufferView) throws
    /// Sets every element of a float32 view to `value`.
    func fill(_ view: BufferView, with value: Float) throws
    /// Waits until all queued work has finished.
    func synchronize() throws

    // MARK: - Matmul

    /// Strided batched GEMM, OVERWRITES (beta = 0) or ACCUMULATES (beta = 1) into `c`:
    ///   for i in 0..<batch: C_i = alpha * op(A_i) * op(B_i) + beta * C_i
    /// op(A_i) is m×k (A_i stored k×m when `transposeA`), op(B_i) is k×n (stored n×k when
    /// `transposeB`), C_i is m×n; all packed row-major. A_i starts at `a.offset + i * strideA`
    /// elements (likewise B, C). With beta == 0, C's old contents are ignored (even NaN).
    func matmul(c: BufferView, a: BufferView, b: BufferView,
                m: Int, n: Int, k: Int,
                transposeA: Bool, transposeB: Bool,
                alpha: Float, beta: Float,
                batch: Int, strideA: Int, strideB: Int, strideC: Int) throws

    // MARK: - Elementwise

    /// out = a + b, elementwise (equal counts; `out` may alias `a` or `b`). OVERWRITES.
    func add(out: BufferView, a: BufferView, b: BufferView) throws
    /// y += alpha * x (equal counts). ACCUMULATES.
    func addScaled(into y: BufferView, _ x: BufferView, alpha: Float) throws
    /// x *= alpha, in place.
    func scale(_ x: BufferView, by alpha: Float) throws
    /// out[r, c] += bias[c] for an N×cols `out`. In place.
    func addBias(out: BufferView, bias: BufferView, rows: Int, cols: Int) throws
    /// dbias[c] += sum over r of dout[r, c] (N×cols). ACCUMULATES. Also the backward of a
    /// broadcast add (e.g. learned positions: rows = B, cols = T*C).
    func biasBackward(dbias: BufferView, dout: BufferView, rows: Int, cols: Int) throws

    // MARK: - Embedding

    /// out[i, :] = table[tokens[i], :] for N tokens; table is V×C, out N×C. OVERWRITES.
    /// Throws `invalidArgument` for a token outside 0..<V where the backend can check.
    func embeddingForward(out: BufferView, table: BufferView, tokens: BufferView,
                          count: Int, dim: Int) throws
    /// dtable[tokens[i], :] += dout[i, :]. ACCUMULATES, deterministically (no float atomics:
    /// the sum for each row of dtable is taken in increasing i).
    func embeddingBackward(dtable: BufferView, dout: BufferView, tokens: BufferView,
                           count: Int, dim: Int) throws

    // MARK: - Norms

    /// LayerNorm over the last dim of an N×C input. OVERWRITES out (N×C), mean (N), rstd (N):
    ///   out = (x - mean) * rstd * weight + bias,  rstd = 1 / sqrt(var + epsilon) (biased var).
    /// `bias` may be nil (no-bias models).
    func layerNormForward(out: BufferView, mean: BufferView, rstd: BufferView,
                          input: BufferView, weight: BufferView, bias: BufferView?,
                          rows: Int, cols: Int, epsilon: Float) throws
    /// ACCUMULATES dinput (N×C), dweight (C), dbias (C, when non-nil).
    func layerNormBackward(dinput: BufferView, dweight: BufferView, dbias: BufferView?,
                           dout: BufferView, input: BufferView, weight: BufferView,
                           mean: BufferView, rstd: BufferView, rows: Int, cols: Int) throws
    /// RMSNorm (Llama): out = x * rstd * weight, rstd = 1 / sqrt(mean(x^2) + epsilon).
    /// OVERWRITES out (N×C) and rstd (N).
    func rmsNormForward(out: BufferView, rstd: BufferView, input: BufferView, weight: BufferView,
                        rows: Int, cols: Int, epsilon: Float) throws
    /// ACCUMULATES dinput (N×C) and dweight (C).
    func rmsNormBackward(dinput: BufferView, dweight: BufferView, dout: BufferView,
                         input: BufferView, weight: BufferView, rstd: BufferView,
                         rows: Int, cols: Int) throws

    // MARK: - Activations

    /// GELU, tanh approximation (GPT-2's "gelu_new"):
    ///   0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). OVERWRITES out (may alias input).
    func geluForward(out: BufferView, input: BufferView) throws
    /// dinput = dout * gelu'(input). OVERWRITES dinput (may alias dout).
    func geluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws
    /// out = max(x, 0). OVERWRITES (may alias input).
    func reluForward(out: BufferView, input: BufferView) throws
    /// dinput = dout where input > 0, else 0. OVERWRITES (may alias dout).
    func reluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws
    /// Fused SwiGLU. input is N×2F: columns 0..<F are the gate g, F..<2F the up projection u.
    ///   out[r, j] = silu(g[r, j]) * u[r, j],  silu(g) = g / (1 + exp(-g)). out is N×F. OVERWRITES.
    func swigluForward(out: BufferView, input: BufferView, rows: Int, hidden: Int) throws
    /// dinput (N×2F): dg = dout * u * silu'(g), du = dout * silu(g). OVERWRITES.
    func swigluBackward(dinput: BufferView, dout: BufferView, input: BufferView,
                        rows: Int, hidden: Int) throws
    /// Inverted dropout: out[i] = keep(i) ? input[i] / (1 - p) : 0, where
    /// keep(i) = CounterRNG.uniform(seed, i) >= p. The same (seed, i) gives the same mask on every
    /// backend. OVERWRITES (may alias input). p == 0 copies.
    func dropoutForward(out: BufferView, input: BufferView, probability: Float, seed: UInt64) throws
    /// dinput = dout masked and scaled exactly as the forward with the same seed. OVERWRITES
    /// (may alias dout).
    func dropoutBackward(dinput: BufferView, dout: BufferView, probability: Float, seed: UInt64) throws

    // MARK: - Positions

    /// Rotary embedding, in place, in the Hugging Face Llama layout ("rotate_half": element i pairs
    /// with i + hs/2). x holds `rows` rows of `rowStride` elements; the first heads*hs elements of
    /// each row are `heads` vectors of size hs to rotate (for a (B, T, 3C) qkv buffer: rowStride 3C,
    /// heads 2*NH rotates q and k, leaves v). Row r has position (r % sequenceLength) + positionOffset;
    /// pair i rotates by angle pos * theta^(-2i/hs).
    func ropeForward(_ x: BufferView, rows: Int, sequenceLength: Int, rowStride: Int,
                     heads: Int, headDim: Int, theta: Float, positionOffset: Int) throws
    /// The transpose rotation (by -angle), in place: turns d(rotated) into d(unrotated).
    func ropeBackward(_ dx: BufferView, rows: Int, sequenceLength: Int, rowStride: Int,
                      heads: Int, headDim: Int, theta: Float, positionOffset: Int) throws

    // MARK: - Attention

    /// Fused causal self-attention. qkv is (B, T, 3, NH, hs): per token, all queries, then keys,
    /// then values. For every (b, h, t): s_j = q_t·k_j / sqrt(hs) for j <= t,
    /// out[b, t, h, :] = sum_j softmax(s)_j v_j. Writes out (B, T, C) and the per-row
    /// logsumexp of the scaled scores (B, NH, T), which the backward uses. OVERWRITES both.
    /// Equivalent unfused code: scores = Q K^T / sqrt(hs); mask j > t to -inf; P = softmax(scores);
    /// out = P V.
    func attentionForward(out: BufferView, logsumexp: BufferView, qkv: BufferView,
                          batch: Int, sequenceLength: Int, heads: Int, headDim: Int) throws
    /// Gradients for q, k, v into dqkv (B, T, 3C), recomputing P from qkv and logsumexp
    /// (uses out for D_t = dout_t·out_t). OVERWRITES dqkv.
    func attentionBackward(dqkv: BufferView, dout: BufferView, qkv: BufferView, out: BufferView,
                           logsumexp: BufferView, batch: Int, sequenceLength: Int,
                           heads: Int, headDim: Int) throws

    /// Causal attention for `queries` new tokens of ONE sequence against its KV cache (inference).
    /// qkv holds rows 0..<(start + queries), each (3, NH, hs) as in `attentionForward`: rows
    /// 0..<start are cached tokens, rows start..<start+queries the new ones. For each new row t:
    ///   out[t - start] = sum_{j <= t} softmax_j(q_t·k_j / sqrt(hs)) v_j.   out is (queries, C).
    /// Equals rows start..<start+queries of `attentionForward` over the whole prefix. OVERWRITES.
    func attentionCachedForward(out: BufferView, qkv: BufferView, start: Int, queries: Int,
                                heads: Int, headDim: Int) throws

    // MARK: - Softmax and loss

    /// Row softmax of an N×cols input (max-subtracted). OVERWRITES out (may alias input).
    func softmaxForward(out: BufferView, input: BufferView, rows: Int, cols: Int) throws
    /// dinput = out * (dout - sum(dout * out)) per row. OVERWRITES dinput.
    func softmaxBackward(dinput: BufferView, dout: BufferView, out: BufferView,
                         rows: Int, cols: Int) throws
    /// Fused softmax + cross-entropy over N×V logits and N int32 targets. OVERWRITES
    /// losses[r] = logsumexp(logits[r]) - logits[r, target[r]] and, when `dlogits` is non-nil,
    /// dlogits = (softmax(logits) - onehot(target)) * gradientScale in the same pass (`dlogits` may
    /// alias `logits`). A target of -1 is ignored: loss 0 and zero gradient for that row. A target
    /// outside -1..<V throws `invalidArgument` where the backend can check cheaply (CPU backends);
    /// GPU backends give that row a NaN loss instead of a device round trip per step (the model
    /// validates targets on the host before they are uploaded).
    func crossEntropyForward(losses: BufferView, dlogits: BufferView?, logits: BufferView,
                             targets: BufferView, rows: Int, vocabulary: Int,
                             gradientScale: Float) throws

    // MARK: - Optimizer and reductions

    /// One AdamW step over matching views (updated in place), step t >= 1:
    ///   g = gradientScale * grad;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
    ///   mhat = m / (1 - b1^t);  vhat = v / (1 - b2^t)
    ///   param -= lr * (mhat / (sqrt(vhat) + eps) + weightDecay * param)
    func adamW(parameters: BufferView, gradients: BufferView, firstMoment: BufferView,
               secondMoment: BufferView, learningRate: Float, beta1: Float, beta2: Float,
               epsilon: Float, weightDecay: Float, step: Int, gradientScale: Float) throws
    /// result[0] = sum of x[i]^2 over the view. OVERWRITES the one-element `result`.
    func squaredNorm(result: BufferView, input: BufferView) throws
}

// MARK: - Conveniences shared by all backends

extension Backend {
    public var memoryCapacity: Int? { nil }

    /// Unbatched matmul: C = alpha * op(A) * op(B) + beta * C.
    public func matmul(c: BufferView, a: BufferView, b: BufferView, m: Int, n: Int, k: Int,
                       transposeA: Bool = false, transposeB: Bool = false,
                       alpha: Float = 1, beta: Float = 0) throws {
        try matmul(c: c, a: a, b: b, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                   alpha: alpha, beta: beta, batch: 1, strideA: 0, strideB: 0, strideC: 0)
    }

    /// Allocates and uploads in one call.
    public func makeBuffer(_ values: [Float]) throws -> Buffer {
        let buffer = try allocate(values.count, .float32)
        try upload(values, to: buffer.all)
        return buffer
    }

    /// Allocates and uploads int32 values in one call.
    public func makeBuffer(_ values: [Int32]) throws -> Buffer {
        let buffer = try allocate(values.count, .int32)
        try upload(values, to: buffer.all)
        return buffer
    }

    /// Backends without a KV-cache kernel say so; generation then recomputes the window.
    public func attentionCachedForward(out: BufferView, qkv: BufferView, start: Int, queries: Int,
                                       heads: Int, headDim: Int) throws {
        throw BackendError.unsupported(op: Op.attentionCachedForward.rawValue, backend: name,
                                       reason: "no KV-cache attention kernel")
    }

    /// Every op supported unless a backend says otherwise.
    public func supports(_ op: Op) -> Support { .supported }
}
