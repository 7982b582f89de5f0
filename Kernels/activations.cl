// Pointwise activations, forward and backward: GELU (tanh approximation), ReLU, fused SwiGLU and
// inverted dropout with the shared counter-based RNG (Sources/Compute/CounterRNG.swift, ported
// bit-exactly: 32-bit unsigned arithmetic wraps identically in Swift's &* and OpenCL's uint *).
//
// One work-item per element (SwiGLU: per output element, 2-D grid (F, N) so no division is needed).
// These are memory-bound: each work-item reads its inputs once and writes once, and consecutive
// work-items touch consecutive addresses (coalesced). Every kernel reads an element before writing the
// same index, so the contract's aliasing (out = input, dinput = dout) is safe. Buffers come as
// (pointer, element offset) pairs; n, rows and hidden are element counts.

// GELU forward runs in float as x / (1 + exp(-2u)) (= 0.5 x (1 + tanh u)), which has no cancellation
// for negative x and gives the reference's NaN at x = -Inf (-Inf / Inf). The backward
// 0.5 (1 + t) + 0.5 x (1 - t^2) ... cancels to zero near x = -0.75 and loses most float digits there,
// so it is evaluated in double where the device has cl_khr_fp64 (PoCL, NVIDIA); it stays memory-bound
// on a GPU (one tanh per element, even at the H100's half-rate fp64), though PoCL's scalar double
// tanh makes it ~50x slower than a float pointwise kernel on the CPU.
#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double gelu_real;
#else
typedef float gelu_real;
#endif
#define GELU_SCALE ((gelu_real)0.7978845608028654)  // sqrt(2 / pi)
#define GELU_CUBIC ((gelu_real)0.044715)

/// out = 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3).
__kernel void activations_gelu_forward(__global float* out, const int out_off,
                                       __global const float* input, const int input_off, const int n) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float x = input[input_off + i];
    const float u = (float)GELU_SCALE * (x + (float)GELU_CUBIC * x * x * x);
    out[out_off + i] = x / (1.0f + exp(-2.0f * u));
}

/// dinput = dout * (0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)),
/// t = tanh(sqrt(2/pi) (x + 0.044715 x^3)).
__kernel void activations_gelu_backward(__global float* dinput, const int dinput_off,
                                        __global const float* dout, const int dout_off,
                                        __global const float* input, const int input_off, const int n) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const gelu_real x = input[input_off + i];
    const gelu_real t = tanh(GELU_SCALE * (x + GELU_CUBIC * x * x * x));
    const gelu_real slope = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_SCALE * (1.0 + 3.0 * GELU_CUBIC * x * x);
    dinput[dinput_off + i] = (float)((gelu_real)dout[dout_off + i] * slope);
}

/// out = x > 0 ? x : 0 (NaN and -0 give +0, as in the reference).
__kernel void activations_relu_forward(__global float* out, const int out_off,
                                       __global const float* input, const int input_off, const int n) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float x = input[input_off + i];
    out[out_off + i] = x > 0.0f ? x : 0.0f;
}

/// dinput = input > 0 ? dout : 0.
__kernel void activations_relu_backward(__global float* dinput, const int dinput_off,
                                        __global const float* dout, const int dout_off,
                                        __global const float* input, const int input_off, const int n) {
    const int i = get_global_id(0);
    if (i >= n) return;
    dinput[dinput_off + i] = input[input_off + i] > 0.0f ? dout[dout_off + i] : 0.0f;
}

/// out[r, j] = silu(g) * u with g = input[r, j], u = input[r, F + j]; input N×2F, out N×F.
/// Grid (ceil(F), N).
__kernel void activations_swiglu_forward(__global float* out, const int out_off,
                                         __global const float* input, const int input_off,
                                         const int rows, const int hidden) {
    const int j = get_global_id(0), r = get_global_id(1);
    if (j >= hidden || r >= rows) return;
    __global const float* gate = input + input_off + r * 2 * hidden;
    const float g = gate[j];
    out[out_off + r * hidden + j] = g / (1.0f + exp(-g)) * gate[hidden + j];
}

/// With s = sigmoid(g): dg = dout * u * s (1 + g (1 - s)), du = dout * g * s. dinput is N×2F.
__kernel void activations_swiglu_backward(__global float* dinput, const int dinput_off,
                                          __global const float* dout, const int dout_off,
                                          __global const float* input, const int input_off,
                                          const int rows, const int hidden) {
    const int j = get_global_id(0), r = get_global_id(1);
    if (j >= hidden || r >= rows) return;
    __global const float* gate = input + input_off + r * 2 * hidden;
    const float g = gate[j], u = gate[hidden + j], d = dout[dout_off + r * hidden + j];
    const float s = 1.0f / (1.0f + exp(-g));
    __global float* dgate = dinput + dinput_off + r * 2 * hidden;
    dgate[j] = d * u * s * (1.0f + g * (1.0f - s));
    dgate[hidden + j] = d * g * s;
}

/// CounterRNG.hash32 ("lowbias32").
inline uint counter_hash32(uint x) {
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

/// Inverted dropout (forward and backward are the same map): out[i] = keep(j) ? x[i] * keep_scale : 0
/// at mask index j = first_index + i (uint: wraps mod 2^32 as the host's does), keep(j) =
/// uniform(seed, j) >= p, uniform = (bits >> 8) * 2^-24, with
/// bits = hash32(hash32(j ^ hash32(seed_low)) ^ hash32(seed_high + 0x9e3779b9)) as in CounterRNG.bits.
/// keep_scale = 1 / (1 - p) comes from the host as a float, so kept values match the reference's
/// x * keepScale exactly; p = 0 keeps everything and multiplies by 1 (a copy).
__kernel void activations_dropout(__global float* out, const int out_off,
                                  __global const float* input, const int input_off, const int n,
                                  const float p, const float keep_scale,
                                  const uint seed_low, const uint seed_high, const uint first_index) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const uint bits = counter_hash32(counter_hash32((first_index + (uint)i) ^ counter_hash32(seed_low))
                                     ^ counter_hash32(seed_high + 0x9e3779b9U));
    const float uniform = (float)(bits >> 8) * (1.0f / 16777216.0f);
    const float x = input[input_off + i];
    out[out_off + i] = uniform >= p ? x * keep_scale : 0.0f;
}
