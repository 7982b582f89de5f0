// Fused causal self-attention, backward, fp32 (the forward and the layout are in attention.cl:
// qkv and dqkv rows are (NH + 2·KVH, hs), query head h reads KV head h / (NH/KVH)).
//
// Recomputes P from q, k and the saved logsumexp (P_tj = exp(s_tj - lse_t)); with
// D_t = dout_t·out_t, dP_tj = dout_t·v_j, dS_tj = P_tj (dP_tj - D_t), per query head h:
//   dq_t = scale sum_j dS_tj k_j, and for its KV head, summed over the group's query heads:
//   dv_j = sum_h sum_t P_tj dout_t,  dk_j = scale sum_h sum_t dS_tj q_t  (j <= t).
// Three kernels, so every gradient row has exactly one writer (no atomics, deterministic):
//   attention_backward_delta: D for every (b, h, t), once (B·NH·T floats of scratch);
//   attention_backward_dkdv: one work-group per block of BWD_N keys of one KV head, over the query
//     tiles of BWD_M rows at or after it of each query head of the group in turn (the dK/dV
//     accumulators stay in registers across the group);
//   attention_backward_dq: one work-group per block of BWD_Q queries, over the key tiles of DQ_N
//     keys up to the diagonal.
// In both gradient kernels every product is a 2-D register micro-tile over local memory (as in
// attention.cl): work-item (ty, tx) owns rows ty + r·TY (r < ROWS) of its block (keys in dK/dV,
// queries in dQ) × columns tx + c·BWD_TX of the tile's S and dP, and the same rows × the float4
// columns tx + j·BWD_TX of hs of its gradients. P and dS go through local memory between the two
// products, stored [tile row][block row] so the second product reads them as broadcasts.
// Both overwrite their parts of dqkv for every valid row, so the whole dqkv is overwritten.
// Masked pairs get probability 0 (no -INFINITY: see attention.cl).

#ifndef HEAD_DIM
#define HEAD_DIM 64    // head size hs
#endif
#ifndef BWD_N
#define BWD_N 32       // dK/dV: keys per work-group
#endif
#ifndef BWD_M
#define BWD_M 32       // dK/dV: query rows per local-memory tile
#endif
#ifndef BWD_Q
#define BWD_Q 32       // dQ: queries per work-group
#endif
#ifndef DQ_N
#define DQ_N 32        // dQ: keys per local-memory tile
#endif
#ifndef BWD_TX
#define BWD_TX 8       // work-items sharing one group of ROWS block rows
#endif

#define ROWS 4
#define HD4 ((HEAD_DIM + 7) / 8 * 2)              // float4s per head row, even (see TWO_PRODUCTS)
#define ROW4 (HD4 + 1)                          // float4s per local row: the pad spreads banks
#define DV4 ((HD4 + BWD_TX - 1) / BWD_TX)       // float4 columns of a gradient per work-item
#define KV_THREADS (BWD_N / ROWS * BWD_TX)
#define Q_THREADS (BWD_Q / ROWS * BWD_TX)
// [tile row][block row] with a row stride that puts the BWD_TX writers of one store in distinct banks.
#define PAD_FOR(n) ((n) + ((32 / BWD_TX - (n) % 32) % 32 + 32) % 32)
#define LOG2E 1.4426950408889634f

#if BWD_N % ROWS || BWD_Q % ROWS || BWD_M % BWD_TX || DQ_N % BWD_TX
#error "block sizes must be multiples of ROWS, tile sizes multiples of BWD_TX"
#endif

/// Elements d4*4 ..< d4*4+4 of one head row, zero past HEAD_DIM (and for an invalid row).
inline float4 load_head4(__global const float* row, const int d4, const bool valid) {
    const int d = d4 * 4;
    float4 v = (float4)(0.0f);
    if (!valid) return v;
#if HEAD_DIM % 4 == 0
    if ((((ulong)(row + d)) & 15) == 0) return *(__global const float4*)(row + d);
#endif
    if (d < HEAD_DIM) v.x = row[d];   // HD4 pads rows to 8 floats: d itself may be past the row
    if (d + 1 < HEAD_DIM) v.y = row[d + 1];
    if (d + 2 < HEAD_DIM) v.z = row[d + 2];
    if (d + 3 < HEAD_DIM) v.w = row[d + 3];
    return v;
}

/// `count` head rows from token `first` on (`base`: token 0's row of one head part) into tile
/// [row][ROW4], each scaled by `scale`; zero for tokens at or past T.
inline void load_rows(__local float4* tile, __global const float* base, const int row_stride, const int first,
                      const int count, const int T, const float scale, const int lid, const int threads) {
    for (int e = lid; e < count * HD4; e += threads) {
        const int t = first + e / HD4;
        tile[e / HD4 * ROW4 + e % HD4] = scale * load_head4(base + t * row_stride, e % HD4, t < T);
    }
}

/// ACC[r][j] += sum over the tile's `count` rows n of weights[n][block row r] * values[n][float4 j].
#define ACCUMULATE(ACC, weights, stride, values, count)                                          \
    _Pragma("unroll") for (int n = 0; n < (count); ++n) {                                        \
        float w[ROWS];                                                                           \
        _Pragma("unroll") for (int r = 0; r < ROWS; ++r) w[r] = (weights)[n * (stride) + ty + r * TY]; \
        _Pragma("unroll") for (int j = 0; j < DV4; ++j) {                                        \
            if (HD4 % BWD_TX == 0 || tx + j * BWD_TX < HD4) {                                    \
                const float4 v = (values)[n * ROW4 + tx + j * BWD_TX];                           \
                _Pragma("unroll") for (int r = 0; r < ROWS; ++r) ACC[r][j] = fma((float4)(w[r]), v, ACC[r][j]); \
            }                                                                                    \
        }                                                                                        \
    }

/// The dot products of block rows (ty + r·TY of `own_a`, `own_b`) with tile rows (tx + c·BWD_TX of
/// `tile_a`, `tile_b`): DOT_A[r][c] = own_a·tile_a, DOT_B[r][c] = own_b·tile_b.
/// The d4 loop is unrolled by 2, not fully: the block's own rows are the same local addresses in
/// every tile, and a fully unrolled loop lets the compiler hoist all of them out of the tile loop
/// into registers (2 × ROWS × HD4 float4s), which spilled thousands of bytes per work-item. HD4 is
/// even (rows zero-padded to a multiple of 8 floats) so no odd remainder gets unrolled either.
#define TWO_PRODUCTS(DOT_A, DOT_B, own_a, tile_a, own_b, tile_b, COLS)                           \
    _Pragma("unroll") for (int r = 0; r < ROWS; ++r)                                             \
        _Pragma("unroll") for (int c = 0; c < COLS; ++c) { DOT_A[r][c] = 0.0f; DOT_B[r][c] = 0.0f; } \
    _Pragma("unroll 2") for (int d4 = 0; d4 < HD4; ++d4) {                                         \
        _Pragma("unroll") for (int r = 0; r < ROWS; ++r) {                                       \
            const float4 oa = (own_a)[(ty + r * TY) * ROW4 + d4], ob = (own_b)[(ty + r * TY) * ROW4 + d4]; \
            _Pragma("unroll") for (int c = 0; c < COLS; ++c) {                                   \
                const float4 ta = (tile_a)[(tx + c * BWD_TX) * ROW4 + d4];                       \
                const float4 tb = (tile_b)[(tx + c * BWD_TX) * ROW4 + d4];                       \
                DOT_A[r][c] = fma(oa.w, ta.w, fma(oa.z, ta.z, fma(oa.y, ta.y, fma(oa.x, ta.x, DOT_A[r][c])))); \
                DOT_B[r][c] = fma(ob.w, tb.w, fma(ob.z, tb.z, fma(ob.y, tb.y, fma(ob.x, tb.x, DOT_B[r][c])))); \
            }                                                                                    \
        }                                                                                        \
    }

/// Writes ROWS × float4 gradients of block rows (token first + ty + r·TY) into dqkv's part at
/// `part` (0 q, C k, 2C v), scaled, skipping rows at or past T and the padding past HEAD_DIM.
inline void store_rows(__global float* dqkv_head, const int stride, const int first, const int T, const int ty,
                       const int tx, const int r_stride, const float4 g[ROWS][DV4], const float scale) {
#pragma unroll
    for (int r = 0; r < ROWS; ++r) {
        const int t = first + ty + r * r_stride;
        __global float* row = dqkv_head + t * stride;
#pragma unroll
        for (int j = 0; j < DV4; ++j) {
            const int d = (tx + j * BWD_TX) * 4;
            const float4 v = g[r][j] * scale;
            if (t < T && d < HEAD_DIM) row[d] = v.x;
            if (t < T && d + 1 < HEAD_DIM) row[d + 1] = v.y;
            if (t < T && d + 2 < HEAD_DIM) row[d + 2] = v.z;
            if (t < T && d + 3 < HEAD_DIM) row[d + 3] = v.w;
        }
    }
}

/// delta (B, NH, T) = rowsum(dout ∘ out) per head. Grid: (roundUp(B·T·NH, 64)), any local size.
__kernel void attention_backward_delta(__global float* delta, const int delta_off,
                                       __global const float* dout, const int dout_off,
                                       __global const float* out, const int out_off,
                                       const int B, const int T, const int NH) {
    const int item = get_global_id(0);   // (b·T + t)·NH + h: neighbours read neighbouring rows
    if (item >= B * T * NH) return;
    const int h = item % NH, bt = item / NH, b = bt / T, t = bt % T;
    __global const float* g = dout + dout_off + item * HEAD_DIM;
    __global const float* o = out + out_off + item * HEAD_DIM;
    float sum = 0.0f;
#pragma unroll
    for (int d4 = 0; d4 < HD4; ++d4) sum += dot(load_head4(g, d4, true), load_head4(o, d4, true));
    delta[delta_off + (b * NH + h) * T + t] = sum;
}

#define TY (BWD_N / ROWS)
/// dk and dv parts of dqkv (OVERWRITTEN). Grid: (ceil(T/BWD_N)·KV_THREADS, KVH, B), local
/// (KV_THREADS, 1, 1). The block's k (pre-scaled by log2(e)/sqrt(hs)) and v rows of KV head g stay
/// in local memory; q and dout tiles of BWD_M rows of each query head of g's group stream through it.
__kernel __attribute__((reqd_work_group_size(KV_THREADS, 1, 1)))
void attention_backward_dkdv(__global float* dqkv, const int dqkv_off,
                             __global const float* dout, const int dout_off,
                             __global const float* qkv, const int qkv_off,
                             __global const float* delta, const int delta_off,
                             __global const float* lse, const int lse_off,
                             const int T, const int NH, const int KVH, const float scale_log2,
                             const float scale) {
    __local float4 k_own[BWD_N * ROW4], v_own[BWD_N * ROW4];
    __local float4 q_tile[BWD_M * ROW4], g_tile[BWD_M * ROW4];
    __local float p_tile[BWD_M * PAD_FOR(BWD_N)], ds_tile[BWD_M * PAD_FOR(BWD_N)];
    __local float lse2_tile[BWD_M], delta_tile[BWD_M];
    const int lid = get_local_id(0), tx = lid % BWD_TX, ty = lid / BWD_TX;
    const int g = get_group_id(1), b = get_group_id(2), group = NH / KVH;
    const int C = NH * HEAD_DIM, stride = C + 2 * KVH * HEAD_DIM;
    const int k_start = get_group_id(0) * BWD_N;
    __global const float* rows = qkv + qkv_off + b * T * stride;
    __global const float* keys = rows + C + g * HEAD_DIM;
    load_rows(k_own, keys, stride, k_start, BWD_N, T, scale_log2, lid, KV_THREADS);
    load_rows(v_own, keys + KVH * HEAD_DIM, stride, k_start, BWD_N, T, 1.0f, lid, KV_THREADS);

    float4 dk[ROWS][DV4], dv[ROWS][DV4];
#pragma unroll
    for (int r = 0; r < ROWS; ++r)
#pragma unroll
        for (int j = 0; j < DV4; ++j) { dk[r][j] = (float4)(0.0f); dv[r][j] = (float4)(0.0f); }

    // dK and dV of KV head g sum over the query heads of its group: one after another, into the
    // same accumulators.
    for (int h = g * group; h < (g + 1) * group; ++h)
    for (int q_start = k_start / BWD_M * BWD_M; q_start < T; q_start += BWD_M) {
        load_rows(q_tile, rows + h * HEAD_DIM, stride, q_start, BWD_M, T, 1.0f, lid, KV_THREADS);
        load_rows(g_tile, dout + dout_off + b * T * C + h * HEAD_DIM, C, q_start, BWD_M, T, 1.0f, lid, KV_THREADS);
        for (int m = lid; m < BWD_M; m += KV_THREADS) {
            const bool valid = q_start + m < T;
            lse2_tile[m] = valid ? lse[lse_off + (b * NH + h) * T + q_start + m] * LOG2E : 0.0f;
            delta_tile[m] = valid ? delta[delta_off + (b * NH + h) * T + q_start + m] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        float s[ROWS][BWD_M / BWD_TX], dp[ROWS][BWD_M / BWD_TX];
        TWO_PRODUCTS(s, dp, k_own, q_tile, v_own, g_tile, BWD_M / BWD_TX)
#pragma unroll
        for (int r = 0; r < ROWS; ++r) {
            const int j = k_start + ty + r * TY;
#pragma unroll
            for (int c = 0; c < BWD_M / BWD_TX; ++c) {
                const int m = tx + c * BWD_TX, t = q_start + m;
                const float p = (t >= j && t < T) ? exp2(s[r][c] - lse2_tile[m]) : 0.0f;
                p_tile[m * PAD_FOR(BWD_N) + ty + r * TY] = p;
                ds_tile[m * PAD_FOR(BWD_N) + ty + r * TY] = p * (dp[r][c] - delta_tile[m]);
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        ACCUMULATE(dv, p_tile, PAD_FOR(BWD_N), g_tile, BWD_M)
        ACCUMULATE(dk, ds_tile, PAD_FOR(BWD_N), q_tile, BWD_M)
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    __global float* dkeys = dqkv + dqkv_off + b * T * stride + C + g * HEAD_DIM;
    store_rows(dkeys, stride, k_start, T, ty, tx, TY, dk, scale);
    store_rows(dkeys + KVH * HEAD_DIM, stride, k_start, T, ty, tx, TY, dv, 1.0f);
}
#undef TY

#define TY (BWD_Q / ROWS)
/// dq part of dqkv (OVERWRITTEN). Grid: (ceil(T/BWD_Q)·Q_THREADS, NH, B), local (Q_THREADS, 1, 1).
/// The block's q (pre-scaled) and dout rows stay in local memory; k and v tiles of DQ_N keys of
/// the head's KV head stream through it.
__kernel __attribute__((reqd_work_group_size(Q_THREADS, 1, 1)))
void attention_backward_dq(__global float* dqkv, const int dqkv_off,
                           __global const float* dout, const int dout_off,
                           __global const float* qkv, const int qkv_off,
                           __global const float* delta, const int delta_off,
                           __global const float* lse, const int lse_off,
                           const int T, const int NH, const int KVH, const float scale_log2,
                           const float scale) {
    __local float4 q_own[BWD_Q * ROW4], g_own[BWD_Q * ROW4];
    __local float4 k_tile[DQ_N * ROW4], v_tile[DQ_N * ROW4];
    __local float ds_tile[DQ_N * PAD_FOR(BWD_Q)];
    const int lid = get_local_id(0), tx = lid % BWD_TX, ty = lid / BWD_TX;
    const int q_block = get_num_groups(0) - 1 - get_group_id(0);  // heaviest first
    const int h = get_group_id(1), b = get_group_id(2), g = h / (NH / KVH);
    const int C = NH * HEAD_DIM, stride = C + 2 * KVH * HEAD_DIM;
    const int q_start = q_block * BWD_Q;
    __global const float* rows = qkv + qkv_off + b * T * stride;
    __global const float* keys = rows + C + g * HEAD_DIM;
    __global const float* values = keys + KVH * HEAD_DIM;
    load_rows(q_own, rows + h * HEAD_DIM, stride, q_start, BWD_Q, T, scale_log2, lid, Q_THREADS);
    load_rows(g_own, dout + dout_off + b * T * C + h * HEAD_DIM, C, q_start, BWD_Q, T, 1.0f, lid, Q_THREADS);
    float lse2[ROWS], row_delta[ROWS];
    float4 dq[ROWS][DV4];
#pragma unroll
    for (int r = 0; r < ROWS; ++r) {
        const int t = q_start + ty + r * TY;
        lse2[r] = t < T ? lse[lse_off + (b * NH + h) * T + t] * LOG2E : 0.0f;
        row_delta[r] = t < T ? delta[delta_off + (b * NH + h) * T + t] : 0.0f;
#pragma unroll
        for (int j = 0; j < DV4; ++j) dq[r][j] = (float4)(0.0f);
    }

    const int last_key = min(T, q_start + BWD_Q) - 1;
    for (int k_start = 0; k_start <= last_key; k_start += DQ_N) {
        load_rows(k_tile, keys, stride, k_start, DQ_N, T, 1.0f, lid, Q_THREADS);
        load_rows(v_tile, values, stride, k_start, DQ_N, T, 1.0f, lid, Q_THREADS);
        barrier(CLK_LOCAL_MEM_FENCE);

        float s[ROWS][DQ_N / BWD_TX], dp[ROWS][DQ_N / BWD_TX];
        TWO_PRODUCTS(s, dp, q_own, k_tile, g_own, v_tile, DQ_N / BWD_TX)
#pragma unroll
        for (int r = 0; r < ROWS; ++r) {
            const int t = q_start + ty + r * TY;
#pragma unroll
            for (int c = 0; c < DQ_N / BWD_TX; ++c) {
                const int n = tx + c * BWD_TX;
                const float p = k_start + n <= t ? exp2(s[r][c] - lse2[r]) : 0.0f;
                ds_tile[n * PAD_FOR(BWD_Q) + ty + r * TY] = p * (dp[r][c] - row_delta[r]);
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        ACCUMULATE(dq, ds_tile, PAD_FOR(BWD_Q), k_tile, DQ_N)
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    store_rows(dqkv + dqkv_off + b * T * stride + h * HEAD_DIM, stride, q_start, T, ty, tx, TY, dq, scale);
}
#undef TY
