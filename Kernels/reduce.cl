// Deterministic reductions (no float atomics): column sums for bias gradients and norm weight
// gradients, and the global sum of squares.
//
// Column sums are two-pass. Pass 1 (`reduce_column_partials`, and the norm kernels' own partial
// passes in norm.cl) gives each work-item one column of one block of rows and sums that block in
// increasing row order into partials[block][column]; consecutive work-items read consecutive
// columns (coalesced). Pass 2 (`reduce_columns`) adds the blocks, in increasing block order, into
// the output column. The block count is chosen on the host from the device size, so the sum order
// (and the result) is fixed for a given device and shape.
//
// The sum of squares is also two-pass: `reduce_squares_partial` runs GROUPS work-groups, each
// striding over the input in a fixed pattern and reducing in local memory with a fixed tree
// (common.clh's `group_sum`), then `reduce_sum_final` (one work-group) sums the group results the
// same way.

#ifndef THREADS
#define THREADS 256 // work-items per work-group for tree reductions (a power of two)
#endif

/// partials[block * cols + c] = sum over rows [block * rows_per_block, next block) of x[row, c].
/// Dimension 0: column; dimension 1: block.
__kernel void reduce_column_partials(__global float* partials, const int partials_off,
                                     __global const float* x, const int x_off,
                                     const int rows, const int cols, const int rows_per_block) {
    const int c = get_global_id(0), block = get_global_id(1);
    if (c >= cols) return;
    const int first = block * rows_per_block;
    const int last = min(rows, first + rows_per_block);
    float sum = 0.0f;
    for (int r = first; r < last; ++r) sum += x[x_off + (long)r * cols + c];
    partials[partials_off + (long)block * cols + c] = sum;
}

/// out[c] += sum over blocks b (in increasing b) of partials[b * cols + c].
__kernel void reduce_columns(__global float* out, const int out_off,
                             __global const float* partials, const int partials_off,
                             const int cols, const int blocks) {
    const int c = get_global_id(0);
    if (c >= cols) return;
    float sum = 0.0f;
    for (int b = 0; b < blocks; ++b) sum += partials[partials_off + (long)b * cols + c];
    out[out_off + c] += sum;
}

/// partials[group] = sum of x[i]^2 over the elements this work-group visits (i = group * THREADS +
/// lid, then strides of groups * THREADS).
__kernel void reduce_squares_partial(__global float* partials, const int partials_off,
                                     __global const float* x, const int x_off, const int n) {
    __local float scratch[THREADS];
    const int groups = get_num_groups(0);
    float sum = 0.0f;
    for (long i = get_global_id(0); i < n; i += (long)groups * THREADS) {
        const float v = x[x_off + i];
        sum = fma(v, v, sum);
    }
    const float total = group_sum(sum, scratch, THREADS);
    if (get_local_id(0) == 0) partials[partials_off + get_group_id(0)] = total;
}

/// result[0] = sum of partials[0..<count] (one work-group). OVERWRITES result.
__kernel void reduce_sum_final(__global float* result, const int result_off,
                               __global const float* partials, const int partials_off, const int count) {
    __local float scratch[THREADS];
    float sum = 0.0f;
    for (int i = get_local_id(0); i < count; i += THREADS) sum += partials[partials_off + i];
    const float total = group_sum(sum, scratch, THREADS);
    if (get_local_id(0) == 0) result[result_off] = total;
}
