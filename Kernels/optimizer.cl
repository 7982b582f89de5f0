// AdamW, one work-item per parameter (coalesced, memory-bound: 4 reads, 3 writes per element).
// The bias corrections 1 - beta1^t and 1 - beta2^t are computed on the host (in Double) and passed
// in, so the kernel does only the per-element math of Sources/Compute/Backend.swift:
//   g = scale * grad; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2
//   param -= lr * ((m / c1) / (sqrt(v / c2) + eps) + wd * param)

__kernel void optimizer_adamw(__global float* param, const int param_off,
                              __global const float* grad, const int grad_off,
                              __global float* m, const int m_off,
                              __global float* v, const int v_off,
                              const int n, const float lr, const float beta1, const float beta2,
                              const float eps, const float weight_decay, const float gradient_scale,
                              const float correction1, const float correction2) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float g = gradient_scale * grad[grad_off + i];
    const float m_new = beta1 * m[m_off + i] + (1.0f - beta1) * g;
    const float v_new = beta2 * v[v_off + i] + (1.0f - beta2) * g * g;
    m[m_off + i] = m_new;
    v[v_off + i] = v_new;
    const float p = param[param_off + i];
    const float update = (m_new / correction1) / (sqrt(v_new / correction2) + eps);
    param[param_off + i] = p - lr * (update + weight_decay * p);
}
