// Elementwise kernels: add, addScaled, scale, addBias. One work-item per element (or per
// (row, column) for the bias broadcast, so no division is needed); consecutive work-items touch
// consecutive floats, so every access is coalesced. Outputs may alias inputs element for element.
// The bias gradient (a column reduction) lives in reduce.cl.
// Buffer arguments come as (pointer, element offset) pairs; sizes are int.

/// out[i] = a[i] + b[i] for i < n.
__kernel void elementwise_add(__global float* out, const int out_off,
                              __global const float* a, const int a_off,
                              __global const float* b, const int b_off, const int n) {
    const int i = get_global_id(0);
    if (i < n) out[out_off + i] = a[a_off + i] + b[b_off + i];
}

/// y[i] += alpha * x[i] for i < n.
__kernel void elementwise_add_scaled(__global float* y, const int y_off,
                                     __global const float* x, const int x_off,
                                     const float alpha, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[y_off + i] = fma(alpha, x[x_off + i], y[y_off + i]);
}

/// x[i] *= alpha for i < n.
__kernel void elementwise_scale(__global float* x, const int x_off, const float alpha, const int n) {
    const int i = get_global_id(0);
    if (i < n) x[x_off + i] *= alpha;
}

/// out[r, c] += bias[c]; dimension 0 is the column, dimension 1 the row.
__kernel void elementwise_add_bias(__global float* out, const int out_off,
                                   __global const float* bias, const int bias_off,
                                   const int rows, const int cols) {
    const int c = get_global_id(0), r = get_global_id(1);
    if (c < cols && r < rows) out[out_off + (long)r * cols + c] += bias[bias_off + c];
}
