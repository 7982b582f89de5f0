// LayerNorm and RMSNorm over the last dimension of an N×C input, forward and backward.
//
// Forward and the dinput part of backward: one work-group per row; THREADS work-items stride over
// the row's columns (coalesced) and reduce in local memory with common.clh's fixed-tree `group_sum`
// (deterministic). The LayerNorm variance is two-pass (mean first, then squared deviations), which
// stays accurate for rows with a large mean.
// Weight (and bias) gradients: `norm_weight_partials` gives each work-item one column of one block
// of rows (summed in increasing row order into partials[block][c]); reduce.cl's `reduce_columns`
// then adds the blocks in order. No float atomics anywhere.
// Math (xhat = (x - mean) * rstd for LayerNorm, x * rstd for RMSNorm; dn = weight * dout):
//   LayerNorm dinput += rstd * (dn - mean(dn) - xhat * mean(dn * xhat))
//   RMSNorm   dinput += rstd * (dn - xhat * mean(dn * xhat))
//   dweight += sum_rows dout * xhat;  dbias += sum_rows dout

#ifndef THREADS
#define THREADS 256 // work-items per row (a power of two)
#endif

/// out = (x - mean) * rstd * weight (+ bias when has_bias); writes mean[row], rstd[row].
__kernel void norm_layer_forward(__global float* out, const int out_off,
                                 __global float* mean, const int mean_off,
                                 __global float* rstd, const int rstd_off,
                                 __global const float* input, const int input_off,
                                 __global const float* weight, const int weight_off,
                                 __global const float* bias, const int bias_off, const int has_bias,
                                 const int rows, const int cols, const float epsilon) {
    __local float scratch[THREADS];
    const int row = get_group_id(0), lid = get_local_id(0);
    __global const float* x = input + input_off + (long)row * cols;
    __global float* y = out + out_off + (long)row * cols;
    float sum = 0.0f;
    for (int c = lid; c < cols; c += THREADS) sum += x[c];
    const float mu = group_sum(sum, scratch, THREADS) / cols;
    float squares = 0.0f;
    for (int c = lid; c < cols; c += THREADS) {
        const float d = x[c] - mu;
        squares = fma(d, d, squares);
    }
    const float r = 1.0f / sqrt(group_sum(squares, scratch, THREADS) / cols + epsilon);
    for (int c = lid; c < cols; c += THREADS) {
        const float normalized = (x[c] - mu) * r * weight[weight_off + c];
        y[c] = has_bias ? normalized + bias[bias_off + c] : normalized;
    }
    if (lid == 0) {
        mean[mean_off + row] = mu;
        rstd[rstd_off + row] = r;
    }
}

/// out = x * rstd * weight, rstd = 1 / sqrt(mean(x^2) + epsilon); writes rstd[row].
__kernel void norm_rms_forward(__global float* out, const int out_off,
                               __global float* rstd, const int rstd_off,
                               __global const float* input, const int input_off,
                               __global const float* weight, const int weight_off,
                               const int rows, const int cols, const float epsilon) {
    __local float scratch[THREADS];
    const int row = get_group_id(0), lid = get_local_id(0);
    __global const float* x = input + input_off + (long)row * cols;
    __global float* y = out + out_off + (long)row * cols;
    float squares = 0.0f;
    for (int c = lid; c < cols; c += THREADS) squares = fma(x[c], x[c], squares);
    const float r = 1.0f / sqrt(group_sum(squares, scratch, THREADS) / cols + epsilon);
    for (int c = lid; c < cols; c += THREADS) y[c] = x[c] * r * weight[weight_off + c];
    if (lid == 0) rstd[rstd_off + row] = r;
}

/// dinput += rstd * (dn - mean(dn) - xhat * mean(dn * xhat)) (no mean(dn) term for RMSNorm),
/// one work-group per row.
/// IS_RMS rows have no mean (pass rstd as `mean`; it is not read).
__kernel void norm_backward_input(__global float* dinput, const int dinput_off,
                                  __global const float* dout, const int dout_off,
                                  __global const float* input, const int input_off,
                                  __global const float* weight, const int weight_off,
                                  __global const float* mean, const int mean_off,
                                  __global const float* rstd, const int rstd_off,
                                  const int rows, const int cols, const int is_rms) {
    __local float scratch[THREADS];
    const int row = get_group_id(0), lid = get_local_id(0);
    const long base = (long)row * cols;
    const float mu = is_rms ? 0.0f : mean[mean_off + row];
    const float r = rstd[rstd_off + row];
    float dn_sum = 0.0f, dn_xhat_sum = 0.0f;
    for (int c = lid; c < cols; c += THREADS) {
        const float dn = weight[weight_off + c] * dout[dout_off + base + c];
        const float xhat = (input[input_off + base + c] - mu) * r;
        dn_sum += dn;
        dn_xhat_sum = fma(dn, xhat, dn_xhat_sum);
    }
    const float dn_mean = is_rms ? 0.0f : group_sum(dn_sum, scratch, THREADS) / cols;
    const float dn_xhat_mean = group_sum(dn_xhat_sum, scratch, THREADS) / cols;
    for (int c = lid; c < cols; c += THREADS) {
        const float dn = weight[weight_off + c] * dout[dout_off + base + c];
        const float xhat = (input[input_off + base + c] - mu) * r;
        dinput[dinput_off + base + c] += r * (dn - dn_mean - xhat * dn_xhat_mean);
    }
}

/// partials[block][c] = sum over the block's rows of dout * xhat, and (when has_bias) partials
/// [blocks + block][c] = sum of dout. Dimension 0: column; dimension 1: block.
__kernel void norm_weight_partials(__global float* partials, const int partials_off,
                                   __global const float* dout, const int dout_off,
                                   __global const float* input, const int input_off,
                                   __global const float* mean, const int mean_off,
                                   __global const float* rstd, const int rstd_off,
                                   const int rows, const int cols, const int rows_per_block,
                                   const int is_rms, const int has_bias) {
    const int c = get_global_id(0), block = get_global_id(1), blocks = get_global_size(1);
    if (c >= cols) return;
    const int first = block * rows_per_block;
    const int last = min(rows, first + rows_per_block);
    float weight_sum = 0.0f, bias_sum = 0.0f;
    for (int r = first; r < last; ++r) {
        const long at = (long)r * cols + c;
        const float mu = is_rms ? 0.0f : mean[mean_off + r];
        const float g = dout[dout_off + at];
        weight_sum = fma(g, (input[input_off + at] - mu) * rstd[rstd_off + r], weight_sum);
        bias_sum += g;
    }
    partials[partials_off + (long)block * cols + c] = weight_sum;
    if (has_bias) partials[partials_off + (long)(blocks + block) * cols + c] = bias_sum;
}
