// Fused causal self-attention (flash attention), forward and backward, fp32.
//
// Layout: qkv is (B, T, 3, NH, hs): for token row r = b*T + t, q starts at r*3C + h*hs, k at
// r*3C + C + h*hs, v at r*3C + 2C + h*hs (C = NH*hs). out and dout are (B, T, C); logsumexp is
// (B, NH, T), the natural log of sum_j exp(s_tj) with s_tj = q_t·k_j / sqrt(hs). T×T is never stored.
//
// Forward (attention_forward): one work-group per (query block of BLOCK_M rows, head, batch), one
// work-item per query row. The row's q (pre-scaled by log2(e)/sqrt(hs), so exp becomes exp2) and its
// output accumulator live in registers as HEAD_DIM/4 float4s. K and V tiles of BLOCK_N keys stream
// through local memory; every work-item reads the same key at the same time (a broadcast, no bank
// conflicts). Per tile: BLOCK_N dot products (the d loop is outside the key loop, so the BLOCK_N sums
// are independent chains the GPU can overlap), one online-softmax rescale, then BLOCK_N axpys into the
// accumulator. Causal masking is applied only to tiles that cross the diagonal; tiles wholly above it
// are never loaded. Query blocks run heaviest-first (the last block has the most keys) so the tail of
// the grid is made of short work-groups.
//
//   qkv ──► K tile [BLOCK_N][hs] ─┐ local           per work-item (query row t):
//       ──► V tile [BLOCK_N][hs] ─┘ memory            q[hs], o[hs], running max m, running sum l
//
// Backward recomputes P from q, k and the saved logsumexp (P_tj = exp(s_tj - lse_t)); with
// D_t = dout_t·out_t, dP_tj = dout_t·v_j, dS_tj = P_tj (dP_tj - D_t):
//   dv_j = sum_t P_tj dout_t,  dk_j = scale sum_t dS_tj q_t,  dq_t = scale sum_j dS_tj k_j  (j <= t).
// Two kernels, so every gradient row has exactly one writer (no atomics, deterministic):
//   attention_backward_dkdv: one work-group per key block (BWD_N keys, one work-item each), looping over
//     query tiles of BWD_M rows at or after the block; D_t is computed when the tile is loaded (hs
//     multiply-adds per row per key block, far below the tile's BWD_M·BWD_N·4·hs), so no scratch buffer
//     and no extra launch are needed.
//   attention_backward_dq: one work-group per query block (BWD_Q rows), looping over key tiles of
//     DQ_BLOCK_N keys up to the diagonal.
// Both overwrite their parts of dqkv for every valid row, so the whole dqkv is overwritten.
//
// Large negative finite NEG_BIG instead of -INFINITY for masked scores and the initial running max:
// with -INFINITY, a row whose running max is still -inf computes exp2(-inf - -inf) = exp2(NaN), and
// under -cl-fast-relaxed-math / -cl-finite-math-only the compiler may assume no infinities at all, so
// comparisons with -inf are undefined. exp2(NEG_BIG - m) is an exact 0 for any realistic score m.

#ifndef HEAD_DIM
#define HEAD_DIM 64    // head size hs; a -D so every loop over it unrolls into float4 registers
#endif
#ifndef BLOCK_M
#define BLOCK_M 64     // forward: query rows (= work-items) per work-group
#endif
#ifndef BLOCK_N
#define BLOCK_N 32     // forward: keys per local-memory tile (2 tiles of BLOCK_N*hs floats)
#endif
#ifndef BWD_N
#define BWD_N 64       // backward dK/dV: keys (= work-items) per work-group
#endif
#ifndef BWD_M
#define BWD_M 16       // backward dK/dV: query rows per local-memory tile
#endif
#ifndef BWD_Q
#define BWD_Q 64       // backward dQ: query rows (= work-items) per work-group
#endif
#ifndef DQ_BLOCK_N
#define DQ_BLOCK_N 16  // backward dQ: keys per local-memory tile
#endif

#define HD4 ((HEAD_DIM + 3) / 4)   // float4s per head row (zero-padded past HEAD_DIM)
#define HDP (HD4 * 4)
#define NEG_BIG (-1.0e30f)
#define LOG2E 1.4426950408889634f
#define LN2 0.6931471805599453f

/// Four products summed into acc (one fused multiply-add chain per float4).
inline float dot4(const float4 a, const float4 b, float acc) {
    return mad(a.w, b.w, mad(a.z, b.z, mad(a.y, b.y, mad(a.x, b.x, acc))));
}

/// Elements d4*4 ..< d4*4+4 of one head row, zero past HEAD_DIM (or for an invalid row).
inline float4 load_head4(__global const float* row, const int d4, const bool valid) {
    float4 value = (float4)(0.0f);
    if (!valid) return value;
    const int d = d4 * 4;
    value.x = row[d];
    if (d + 1 < HEAD_DIM) value.y = row[d + 1];
    if (d + 2 < HEAD_DIM) value.z = row[d + 2];
    if (d + 3 < HEAD_DIM) value.w = row[d + 3];
    return value;
}

/// Cooperative, coalesced load of `count` head rows (tokens first ..< first+count of one batch and
/// head; `base` points at token 0's row of that head part) into tile[row*HDP + d]; zero for rows at or
/// past T and for the padding past HEAD_DIM.
inline void load_tile(__local float* tile, __global const float* base, const int row_stride,
                      const int first, const int count, const int T, const int lid, const int threads) {
    for (int e = lid; e < count * HDP; e += threads) {
        const int n = e / HDP, d = e - n * HDP, t = first + n;
        tile[e] = (t < T && d < HEAD_DIM) ? base[t * row_stride + d] : 0.0f;
    }
}

/// out (B, Q, C) and logsumexp (B, NH, T) from qkv (B, T, 3C), for the Q = T - q_first query rows
/// q_first ..< T of each sequence (q_first = 0 in training; the KV-cache op passes the cached length
/// and has_lse = 0, since it keeps no logsumexp). Grid: (ceil(Q/BLOCK_M)*BLOCK_M, NH, B), local
/// (BLOCK_M, 1, 1). scale_log2 = log2(e)/sqrt(hs).
__kernel __attribute__((reqd_work_group_size(BLOCK_M, 1, 1)))
void attention_forward(__global float* out, const int out_off,
                       __global float* lse, const int lse_off,
                       __global const float* qkv, const int qkv_off,
                       const int T, const int NH, const float scale_log2,
                       const int q_first, const int has_lse) {
    __local float4 k_tile[BLOCK_N * HD4];
    __local float4 v_tile[BLOCK_N * HD4];
    const int lid = get_local_id(0);
    const int q_block = get_num_groups(0) - 1 - get_group_id(0);  // heaviest first
    const int h = get_group_id(1), b = get_group_id(2);
    const int C = NH * HEAD_DIM, stride = 3 * C;
    const int q_start = q_first + q_block * BLOCK_M, t = q_start + lid;
    const bool valid = t < T;
    __global const float* head = qkv + qkv_off + b * T * stride + h * HEAD_DIM;

    float4 q[HD4], o[HD4];
#pragma unroll
    for (int d4 = 0; d4 < HD4; ++d4) {
        q[d4] = load_head4(head + t * stride, d4, valid) * scale_log2;
        o[d4] = (float4)(0.0f);
    }
    float m = NEG_BIG, l = 0.0f;

    const int last_key = min(T, q_start + BLOCK_M) - 1;
    for (int k_start = 0; k_start <= last_key; k_start += BLOCK_N) {
        barrier(CLK_LOCAL_MEM_FENCE);  // everyone is done with the previous tile
        load_tile((__local float*)k_tile, head + C, stride, k_start, BLOCK_N, T, lid, BLOCK_M);
        load_tile((__local float*)v_tile, head + 2 * C, stride, k_start, BLOCK_N, T, lid, BLOCK_M);
        barrier(CLK_LOCAL_MEM_FENCE);

        float s[BLOCK_N];
#pragma unroll
        for (int n = 0; n < BLOCK_N; ++n) s[n] = 0.0f;
#pragma unroll
        for (int d4 = 0; d4 < HD4; ++d4) {
            const float4 qv = q[d4];
#pragma unroll
            for (int n = 0; n < BLOCK_N; ++n) s[n] = dot4(qv, k_tile[n * HD4 + d4], s[n]);
        }
        // Only tiles reaching past the block's first query need the mask (keys > t, which also
        // covers zero-filled keys at or past T, since t < T for every row that is written).
        if (k_start + BLOCK_N - 1 > q_start) {
#pragma unroll
            for (int n = 0; n < BLOCK_N; ++n) if (k_start + n > t) s[n] = NEG_BIG;
        }
        float m_new = m;
#pragma unroll
        for (int n = 0; n < BLOCK_N; ++n) m_new = fmax(m_new, s[n]);
        const float alpha = exp2(m - m_new);
        l *= alpha;
#pragma unroll
        for (int d4 = 0; d4 < HD4; ++d4) o[d4] *= alpha;
#pragma unroll
        for (int n = 0; n < BLOCK_N; ++n) {
            const float p = exp2(s[n] - m_new);
            l += p;
#pragma unroll
            for (int d4 = 0; d4 < HD4; ++d4) o[d4] = mad((float4)(p), v_tile[n * HD4 + d4], o[d4]);
        }
        m = m_new;
    }

    if (!valid) return;
    const float inverse = 1.0f / l;
    __global float* out_row = out + out_off + (b * (T - q_first) + t - q_first) * C + h * HEAD_DIM;
#pragma unroll
    for (int d4 = 0; d4 < HD4; ++d4) {
        const float4 value = o[d4] * inverse;
        const int d = d4 * 4;
        out_row[d] = value.x;
        if (d + 1 < HEAD_DIM) out_row[d + 1] = value.y;
        if (d + 2 < HEAD_DIM) out_row[d + 2] = value.z;
        if (d + 3 < HEAD_DIM) out_row[d + 3] = value.w;
    }
    if (has_lse) lse[lse_off + (b * NH + h) * T + t] = (m + log2(l)) * LN2;
}

/// Writes 4 elements of a head row, skipping the padding past HEAD_DIM.
inline void store_head4(__global float* row, const int d4, const float4 value) {
    const int d = d4 * 4;
    row[d] = value.x;
    if (d + 1 < HEAD_DIM) row[d + 1] = value.y;
    if (d + 2 < HEAD_DIM) row[d + 2] = value.z;
    if (d + 3 < HEAD_DIM) row[d + 3] = value.w;
}

/// dk and dv parts of dqkv (OVERWRITTEN). Grid: (ceil(T/BWD_N)*BWD_N, NH, B), local (BWD_N, 1, 1).
/// Each work-item owns key j: its k and v rows sit in local memory, transposed so that work-item j
/// reads float4 d4 at [d4][j] (consecutive work-items, consecutive addresses); dk and dv accumulate in
/// registers. Query tiles (q and dout rows, read by all work-items at once) stream through local memory.
__kernel __attribute__((reqd_work_group_size(BWD_N, 1, 1)))
void attention_backward_dkdv(__global float* dqkv, const int dqkv_off,
                             __global const float* dout, const int dout_off,
                             __global const float* qkv, const int qkv_off,
                             __global const float* out, const int out_off,
                             __global const float* lse, const int lse_off,
                             const int T, const int NH, const float scale_log2, const float scale) {
    __local float4 k_own[HD4 * BWD_N];
    __local float4 v_own[HD4 * BWD_N];
    __local float4 q_tile[BWD_M * HD4];
    __local float4 g_tile[BWD_M * HD4];
    __local float lse2_tile[BWD_M];
    __local float delta_tile[BWD_M];
    const int lid = get_local_id(0);
    const int h = get_group_id(1), b = get_group_id(2);
    const int C = NH * HEAD_DIM, stride = 3 * C;
    const int k_start = get_group_id(0) * BWD_N, j = k_start + lid;
    const bool valid = j < T;
    __global const float* head = qkv + qkv_off + b * T * stride + h * HEAD_DIM;
    __global const float* dout_head = dout + dout_off + b * T * C + h * HEAD_DIM;
    __global const float* out_head = out + out_off + b * T * C + h * HEAD_DIM;

    float4 dk[HD4], dv[HD4];
#pragma unroll
    for (int d4 = 0; d4 < HD4; ++d4) {
        k_own[d4 * BWD_N + lid] = load_head4(head + C + j * stride, d4, valid) * scale_log2;
        v_own[d4 * BWD_N + lid] = load_head4(head + 2 * C + j * stride, d4, valid);
        dk[d4] = (float4)(0.0f);
        dv[d4] = (float4)(0.0f);
    }

    const int k_last = min(T, k_start + BWD_N) - 1;
    for (int q_start = (k_start / BWD_M) * BWD_M; q_start < T; q_start += BWD_M) {
        barrier(CLK_LOCAL_MEM_FENCE);
        load_tile((__local float*)q_tile, head, stride, q_start, BWD_M, T, lid, BWD_N);
        load_tile((__local float*)g_tile, dout_head, C, q_start, BWD_M, T, lid, BWD_N);
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int r = lid; r < BWD_M; r += BWD_N) {
            const int t = q_start + r;
            float delta = 0.0f, lse2 = 0.0f;
            if (t < T) {
                __global const float* out_row = out_head + t * C;
                for (int d = 0; d < HEAD_DIM; ++d) delta = mad(((__local float*)g_tile)[r * HDP + d], out_row[d], delta);
                lse2 = lse[lse_off + (b * NH + h) * T + t] * LOG2E;
            }
            delta_tile[r] = delta;
            lse2_tile[r] = lse2;
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        float p[BWD_M], ds[BWD_M];
#pragma unroll
        for (int r = 0; r < BWD_M; ++r) { p[r] = 0.0f; ds[r] = 0.0f; }
#pragma unroll
        for (int d4 = 0; d4 < HD4; ++d4) {
            const float4 kv = k_own[d4 * BWD_N + lid], vv = v_own[d4 * BWD_N + lid];
#pragma unroll
            for (int r = 0; r < BWD_M; ++r) {
                p[r] = dot4(kv, q_tile[r * HD4 + d4], p[r]);     // s_tj (log2 units)
                ds[r] = dot4(vv, g_tile[r * HD4 + d4], ds[r]);   // dP_tj
            }
        }
        // Mask pairs with t < j (only tiles starting before this block's last key have any) and
        // query rows at or past T.
        const bool masked_tile = q_start < k_last || q_start + BWD_M > T;
#pragma unroll
        for (int r = 0; r < BWD_M; ++r) {
            const int t = q_start + r;
            float prob = exp2(p[r] - lse2_tile[r]);
            if (masked_tile && (t < j || t >= T)) prob = 0.0f;
            p[r] = prob;
            ds[r] = prob * (ds[r] - delta_tile[r]);
        }
#pragma unroll
        for (int d4 = 0; d4 < HD4; ++d4) {
#pragma unroll
            for (int r = 0; r < BWD_M; ++r) {
                dv[d4] = mad((float4)(p[r]), g_tile[r * HD4 + d4], dv[d4]);
                dk[d4] = mad((float4)(ds[r]), q_tile[r * HD4 + d4], dk[d4]);
            }
        }
    }

    if (!valid) return;
    __global float* dk_row = dqkv + dqkv_off + (b * T + j) * stride + C + h * HEAD_DIM;
#pragma unroll
    for (int d4 = 0; d4 < HD4; ++d4) {
        store_head4(dk_row, d4, dk[d4] * scale);
        store_head4(dk_row + C, d4, dv[d4]);
    }
}

/// dq part of dqkv (OVERWRITTEN). Grid: (ceil(T/BWD_Q)*BWD_Q, NH, B), local (BWD_Q, 1, 1). Each
/// work-item owns query t: q (pre-scaled) and dq in registers, its dout row in local memory transposed
/// ([d4][t], read by its own work-item only), and K/V tiles of DQ_BLOCK_N keys stream through local
/// memory as broadcasts.
__kernel __attribute__((reqd_work_group_size(BWD_Q, 1, 1)))
void attention_backward_dq(__global float* dqkv, const int dqkv_off,
                           __global const float* dout, const int dout_off,
                           __global const float* qkv, const int qkv_off,
                           __global const float* out, const int out_off,
                           __global const float* lse, const int lse_off,
                           const int T, const int NH, const float scale_log2, const float scale) {
    __local float4 g_own[HD4 * BWD_Q];
    __local float4 k_tile[DQ_BLOCK_N * HD4];
    __local float4 v_tile[DQ_BLOCK_N * HD4];
    const int lid = get_local_id(0);
    const int q_block = get_num_groups(0) - 1 - get_group_id(0);  // heaviest first
    const int h = get_group_id(1), b = get_group_id(2);
    const int C = NH * HEAD_DIM, stride = 3 * C;
    const int q_start = q_block * BWD_Q, t = q_start + lid;
    const bool valid = t < T;
    __global const float* head = qkv + qkv_off + b * T * stride + h * HEAD_DIM;
    __global const float* dout_row = dout + dout_off + (b * T + t) * C + h * HEAD_DIM;
    __global const float* out_row = out + out_off + (b * T + t) * C + h * HEAD_DIM;

    float4 q[HD4], dq[HD4];
    float delta = 0.0f;
#pragma unroll
    for (int d4 = 0; d4 < HD4; ++d4) {
        q[d4] = load_head4(head + t * stride, d4, valid) * scale_log2;
        const float4 g = load_head4(dout_row, d4, valid);
        delta = dot4(g, load_head4(out_row, d4, valid), delta);
        g_own[d4 * BWD_Q + lid] = g;
        dq[d4] = (float4)(0.0f);
    }
    const float lse2 = valid ? lse[lse_off + (b * NH + h) * T + t] * LOG2E : 0.0f;

    const int last_key = min(T, q_start + BWD_Q) - 1;
    for (int k_start = 0; k_start <= last_key; k_start += DQ_BLOCK_N) {
        barrier(CLK_LOCAL_MEM_FENCE);
        load_tile((__local float*)k_tile, head + C, stride, k_start, DQ_BLOCK_N, T, lid, BWD_Q);
        load_tile((__local float*)v_tile, head + 2 * C, stride, k_start, DQ_BLOCK_N, T, lid, BWD_Q);
        barrier(CLK_LOCAL_MEM_FENCE);

        float s[DQ_BLOCK_N], ds[DQ_BLOCK_N];
#pragma unroll
        for (int n = 0; n < DQ_BLOCK_N; ++n) { s[n] = 0.0f; ds[n] = 0.0f; }
#pragma unroll
        for (int d4 = 0; d4 < HD4; ++d4) {
            const float4 qv = q[d4], gv = g_own[d4 * BWD_Q + lid];
#pragma unroll
            for (int n = 0; n < DQ_BLOCK_N; ++n) {
                s[n] = dot4(qv, k_tile[n * HD4 + d4], s[n]);
                ds[n] = dot4(gv, v_tile[n * HD4 + d4], ds[n]);
            }
        }
        const bool masked_tile = k_start + DQ_BLOCK_N - 1 > q_start;
#pragma unroll
        for (int n = 0; n < DQ_BLOCK_N; ++n) {
            float prob = exp2(s[n] - lse2);
            if (masked_tile && k_start + n > t) prob = 0.0f;
            ds[n] = prob * (ds[n] - delta);
        }
#pragma unroll
        for (int d4 = 0; d4 < HD4; ++d4) {
#pragma unroll
            for (int n = 0; n < DQ_BLOCK_N; ++n) dq[d4] = mad((float4)(ds[n]), k_tile[n * HD4 + d4], dq[d4]);
        }
    }

    if (!valid) return;
    __global float* dq_row = dqkv + dqkv_off + (b * T + t) * stride + h * HEAD_DIM;
#pragma unroll
    for (int d4 = 0; d4 < HD4; ++d4) store_head4(dq_row, d4, dq[d4] * scale);
}
