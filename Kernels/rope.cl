// Rotary position embedding, in place, in the Hugging Face Llama layout ("rotate_half": element i of
// a head pairs with element i + hs/2). Row r has position pos = (r % T) + position_offset; pair i of
// every rotated head turns by direction * pos * theta^(-2i/hs) (direction +1 forward, -1 for the
// backward's transpose rotation):  (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin).
//
// Grid (ceil(heads * hs/2), rows): one work-item per pair, consecutive work-items on consecutive
// elements of a row (coalesced; x1 and x2 are two contiguous runs). Each item reads its pair before
// writing it, so in place is safe.
//
// Angle precision: the reference computes theta^(-2i/hs) and pos * frequency in Double. In float the
// frequency from pow() carries a few ulps and the product is rounded again, which at pos ~ 1000 moves
// the angle by ~1e-4 rad. Where the device has cl_khr_fp64 (PoCL, NVIDIA) the angle is formed in
// double and reduced to [-pi, pi] before the float sin/cos, which then only round once.

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

__kernel void rope_rotate(__global float* x, const int x_off, const int rows, const int T,
                          const int row_stride, const int heads, const int head_dim,
                          const float theta, const int position_offset, const float direction) {
    const int half_dim = head_dim / 2;
    const int k = get_global_id(0), r = get_global_id(1);
    if (k >= heads * half_dim || r >= rows) return;
    const int h = k / half_dim, i = k - h * half_dim;
    const int position = r % T + position_offset;
#ifdef cl_khr_fp64
    const double frequency = pow((double)theta, -2.0 * (double)i / (double)head_dim);
    const double turns = (double)position * frequency;
    const double two_pi = 6.283185307179586;
    const float angle = (float)(turns - two_pi * rint(turns / two_pi)) * direction;
#else
    const float frequency = pow(theta, -2.0f * (float)i / (float)head_dim);
    const float angle = (float)position * frequency * direction;
#endif
    float cosine;
    const float sine = sincos(angle, &cosine);
    __global float* head = x + x_off + r * row_stride + h * head_dim;
    const float x1 = head[i], x2 = head[i + half_dim];
    head[i] = x1 * cosine - x2 * sine;
    head[i + half_dim] = x2 * cosine + x1 * sine;
}
