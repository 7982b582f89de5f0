// Row softmax (forward, backward) and fused softmax + cross-entropy, one work-group per row.
//
// Forward and cross-entropy read the row once to get (max, sum of exp) with an online update per
// work-item (when a larger value arrives the partial sum is rescaled by exp(old max - new max)), merge
// the LOCAL_SIZE partial pairs with a tree in local memory, then make one more pass to write.
// So a V = 50,257 logits row is read twice and written once (the minimum for an in-place gradient),
// with coalesced accesses: work-item l touches columns l, l + LOCAL_SIZE, ... Rows start at arbitrary
// elements (V is odd), so loads stay scalar; consecutive work-items still hit consecutive addresses.
//
// Outputs are exp(x - max) * (1 / sum), and the loss is (max - x[target]) + log(sum): this keeps the
// absolute rounding of a large logsumexp (logits near 100) out of the result.
//
// Non-finite inputs follow the reference (max-subtracted sums in Double): any NaN in a row makes the
// sum NaN, hence every output of the row NaN; a +Inf makes exp(Inf - Inf) = NaN in the reference's sum,
// so a row whose max is +Inf gets a NaN sum here too; -Inf entries contribute exp(-Inf) = 0.
// NEG_BIG (common.clh, finite) starts the running max rather than -INFINITY so that
// exp(max_a - max_b) of two untouched partials is exp(0) * 0 rather than exp(NaN) (and stays
// well-defined under finite-math).

#ifndef LOCAL_SIZE
#define LOCAL_SIZE 256  // work-items per row (a power of two); 8 warps keep enough loads in flight
#endif

/// Merges each work-item's (max, sum) into slot 0 of the local arrays. Ends with a barrier.
inline void reduce_max_sum(__local float* maxima, __local float* sums, const int lid) {
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = LOCAL_SIZE / 2; width > 0; width >>= 1) {
        if (lid < width) {
            const float m1 = maxima[lid], m2 = maxima[lid + width];
            const float m = fmax(m1, m2);
            sums[lid] = sums[lid] * exp(m1 - m) + sums[lid + width] * exp(m2 - m);
            maxima[lid] = m;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

/// Online (max, sum of exp(x - max)) of this work-item's columns of one row.
inline float2 partial_max_sum(__global const float* row, const int cols, const int lid) {
    float m = NEG_BIG, s = 0.0f;
    for (int c = lid; c < cols; c += LOCAL_SIZE) {
        const float x = row[c];
        if (x > m) {
            s = s * exp(m - x) + 1.0f;
            m = x;
        } else {
            s += exp(x - m);  // NaN stays NaN here
        }
    }
    return (float2)(m, s);
}

/// The row's (max, 1 / sum) after the merge, with the reference's NaN for a +Inf max.
inline float2 row_max_inverse_sum(__local float* maxima, __local float* sums) {
    const float m = maxima[0];
    const float s = isinf(m) ? NAN : sums[0];
    return (float2)(m, 1.0f / s);
}

/// out = softmax(input) per row of an N×cols matrix (out may alias input). Grid (N*LOCAL_SIZE).
__kernel __attribute__((reqd_work_group_size(LOCAL_SIZE, 1, 1)))
void softmax_forward(__global float* out, const int out_off,
                     __global const float* input, const int input_off, const int cols) {
    __local float maxima[LOCAL_SIZE], sums[LOCAL_SIZE];
    const int lid = get_local_id(0), r = get_group_id(0);
    __global const float* row = input + input_off + r * cols;
    const float2 partial = partial_max_sum(row, cols, lid);
    maxima[lid] = partial.x;
    sums[lid] = partial.y;
    reduce_max_sum(maxima, sums, lid);
    const float2 total = row_max_inverse_sum(maxima, sums);
    __global float* out_row = out + out_off + r * cols;
    for (int c = lid; c < cols; c += LOCAL_SIZE) out_row[c] = exp(row[c] - total.x) * total.y;
}

/// dinput = out * (dout - sum(dout * out)) per row. Grid (N*LOCAL_SIZE).
__kernel __attribute__((reqd_work_group_size(LOCAL_SIZE, 1, 1)))
void softmax_backward(__global float* dinput, const int dinput_off,
                      __global const float* dout, const int dout_off,
                      __global const float* out, const int out_off, const int cols) {
    __local float partials[LOCAL_SIZE];
    const int lid = get_local_id(0), r = get_group_id(0);
    __global const float* g = dout + dout_off + r * cols;
    __global const float* y = out + out_off + r * cols;
    float dot = 0.0f;
    for (int c = lid; c < cols; c += LOCAL_SIZE) dot = mad(g[c], y[c], dot);
    partials[lid] = dot;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = LOCAL_SIZE / 2; width > 0; width >>= 1) {
        if (lid < width) partials[lid] += partials[lid + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = partials[0];
    __global float* dx = dinput + dinput_off + r * cols;
    for (int c = lid; c < cols; c += LOCAL_SIZE) dx[c] = y[c] * (g[c] - total);
}

/// Fused softmax + cross-entropy over N×V logits: losses[r] = logsumexp(row) - row[target] and, when
/// has_dlogits, dlogits = (softmax(row) - onehot(target)) * scale (dlogits may alias logits: each
/// work-item reads a column before writing it, and the target logit is read before any write).
/// target -1: loss 0 and a zero gradient row. A target outside -1 ..< V (which the host cannot check
/// without a device round trip) gives a NaN loss and NaN gradients, so training stops visibly.
/// Grid (N*LOCAL_SIZE).
__kernel __attribute__((reqd_work_group_size(LOCAL_SIZE, 1, 1)))
void softmax_cross_entropy(__global float* losses, const int losses_off,
                           __global float* dlogits, const int dlogits_off,
                           __global const float* logits, const int logits_off,
                           __global const int* targets, const int targets_off,
                           const int V, const float scale, const int has_dlogits) {
    __local float maxima[LOCAL_SIZE], sums[LOCAL_SIZE];
    __local float target_logit[1];
    const int lid = get_local_id(0), r = get_group_id(0);
    const int target = targets[targets_off + r];
    __global float* dx = dlogits + dlogits_off + r * V;
    __global const float* row = logits + logits_off + r * V;
    // Every work-item of a row takes the same branch (one target per row), and no path returns
    // before the barriers inside reduce_max_sum (PoCL compiles work-groups as loops around them).
    const bool ignored = target == -1, valid_target = target >= 0 && target < V;
    const float2 partial = ignored ? (float2)(NEG_BIG, 0.0f) : partial_max_sum(row, V, lid);
    maxima[lid] = partial.x;
    sums[lid] = partial.y;
    if (lid == 0) target_logit[0] = valid_target ? row[target] : NAN;
    reduce_max_sum(maxima, sums, lid);  // its barriers also order target_logit before any write
    const float2 total = row_max_inverse_sum(maxima, sums);
    if (lid == 0) losses[losses_off + r] = ignored ? 0.0f : (total.x - target_logit[0]) - log(total.y);
    if (!has_dlogits) return;
    if (ignored) {
        for (int c = lid; c < V; c += LOCAL_SIZE) dx[c] = 0.0f;
        return;
    }
    const float bad = valid_target ? 0.0f : NAN;
    for (int c = lid; c < V; c += LOCAL_SIZE) {
        const float probability = exp(row[c] - total.x) * total.y;
        dx[c] = (probability - (c == target ? 1.0f : 0.0f) + bad) * scale;
    }
}
