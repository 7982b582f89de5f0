// Elementwise kernels (placeholder family until the OpenCL backend lands): y = a + b.
// Buffer arguments come as (pointer, element offset) pairs; see Backends/OpenCL.
__kernel void elementwise_add(__global float* out, const int out_off,
                              __global const float* a, const int a_off,
                              __global const float* b, const int b_off, const int n) {
    const int i = get_global_id(0);
    if (i < n) out[out_off + i] = a[a_off + i] + b[b_off + i];
}
