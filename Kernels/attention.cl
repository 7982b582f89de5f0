// Fused causal self-attention, forward (flash attention with online softmax), fp32.
// The backward is Kernels/attention_backward.cl.
//
// Layout (grouped-query attention): NH query heads share KVH key/value heads, query head h reading
// KV head g = h / (NH/KVH). qkv is (B, T, NH + 2·KVH, hs): for token row r = b*T + t, q of head h
// starts at r*W + h*hs, k of KV head g at r*W + C + g*hs, v at r*W + C + (KVH + g)*hs
// (C = NH*hs, W = C + 2·KVH·hs). out is (B, T, C); logsumexp is (B, NH, T), the natural log of
// sum_j exp(s_tj) with s_tj = q_t·k_j / sqrt(hs). T×T is never stored.
// One body, two builds: attention_forward reads everything from qkv, addressing the KV head's
// key from the query head's pointer (one base pointer in the loops); built with KV_CACHE = 1 it is
// attention_cached_forward, which reads the new rows' queries (Q, NH, hs) and the KV cache
// (T, 2, KVH, hs) through two views. Only the pointer setup and the logsumexp store differ.
//
// One work-group per (block of BLOCK_M queries, head, batch), FWD_TX × (BLOCK_M/ROWS) work-items.
// Both products are 2-D register micro-tiles over local memory, like an SGEMM:
//   S = Q·Kᵀ (BLOCK_M × BLOCK_N per key tile): work-item (ty, tx) owns queries ty + r·TY (r < ROWS)
//     × keys tx + c·FWD_TX, so every float4 it reads from local memory feeds ROWS or KEYS dot steps;
//   O += P·V (BLOCK_M × hs): the same ROWS queries × the float4 columns tx + j·FWD_TX of hs.
// The softmax row of a query is spread over the FWD_TX work-items sharing its ty: they agree on the
// tile's row maximum through local memory (one barrier), write P to local memory (the next
// barrier), and each keeps its own part of the row sum l (summed once at the end).
//
//   per key tile i:  S(i) from Q and K(i)  -> row max partials | barrier | max, P(i), rescale O;
//                    store V(i) and K(i+1) (their global loads were issued before S(i), so they
//                    arrive during it) | barrier | O += P(i)·V(i)
// K and V each have one local buffer: K(i) was last read before the first barrier, V(i-1) before
// this tile began, so both may be overwritten between the two barriers.
//
// Queries are pre-scaled by log2(e)/sqrt(hs) on load, so exp becomes exp2. Causal masking is
// applied only to tiles that cross the diagonal; tiles wholly above it are never loaded. Query
// blocks run heaviest-first (the last block has the most keys) so the tail of the grid is short.
// Masked scores and the initial maximum are common.clh's finite NEG_BIG, not -INFINITY (NaN from
// exp2(-inf - -inf), undefined comparisons under -cl-finite-math-only); exp2(NEG_BIG - m) is an
// exact 0 for any realistic score m. The softmax uses native_exp2
// (one hardware instruction on NVIDIA, ~2 ulp, which the forward's 1e-4 tolerance easily covers)
// instead of exp2, whose denormal handling costs four more instructions per score.

#ifndef HEAD_DIM
#define HEAD_DIM 64    // head size hs; a -D so every loop over it unrolls into registers
#endif
#ifndef BLOCK_M
#define BLOCK_M 64     // queries per work-group
#endif
#ifndef BLOCK_N
#define BLOCK_N 32     // keys per local-memory tile
#endif
#ifndef FWD_TX
#define FWD_TX 8       // work-items sharing one group of ROWS queries
#endif
#ifndef PREFETCH
#define PREFETCH 1     // 1: the next K and this V travel in registers during S (costs registers)
#endif
#ifndef KV_CACHE
#define KV_CACHE 0     // 1: attention_cached_forward (queries and the KV cache in two views)
#endif

#define ROWS 4                                  // queries per work-item
#define TY (BLOCK_M / ROWS)                     // query groups per work-group
#define THREADS (TY * FWD_TX)
#define KEYS (BLOCK_N / FWD_TX)                 // keys per work-item in S
#define HD4 ((HEAD_DIM + 3) / 4)                // float4s per head row (zero past HEAD_DIM)
#define ROW4 (HD4 + 1)                          // float4s per local row: the pad spreads banks
#define DV4 ((HD4 + FWD_TX - 1) / FWD_TX)       // float4 columns of O per work-item
#define P_STRIDE (BLOCK_M + 4)                  // P is [key][query]; the pad spreads banks
#define TILE_VECTORS (BLOCK_N * HD4)
#define VECTORS_PER_ITEM ((TILE_VECTORS + THREADS - 1) / THREADS)
#define LN2 0.6931471805599453f

#if BLOCK_M % ROWS != 0 || BLOCK_N % FWD_TX != 0
#error "BLOCK_M must be a multiple of ROWS and BLOCK_N of FWD_TX"
#endif

/// Elements d4*4 ..< d4*4+4 of one head row, zero past HEAD_DIM: one 16-byte load when the row is
/// 16-byte aligned and HEAD_DIM is a multiple of 4.
inline float4 load_head4(__global const float* row, const int d4, const bool aligned) {
    const int d = d4 * 4;
#if HEAD_DIM % 4 == 0
    if (aligned) return *(__global const float4*)(row + d);
#endif
    float4 v = (float4)(row[d], 0.0f, 0.0f, 0.0f);
    if (d + 1 < HEAD_DIM) v.y = row[d + 1];
    if (d + 2 < HEAD_DIM) v.z = row[d + 2];
    if (d + 3 < HEAD_DIM) v.w = row[d + 3];
    return v;
}

/// Float4 `e` of a tile of head rows starting at token `first` (row e / HD4, column e % HD4), zero
/// for tokens at or past T; `base` points at token 0's row of one head part.
inline float4 tile_vector(__global const float* base, const int row_stride, const int first, const int e,
                          const int T, const bool aligned) {
    const int t = first + e / HD4;
    return t < T ? load_head4(base + t * row_stride, e % HD4, aligned) : (float4)(0.0f);
}

/// The float4s of a BLOCK_N-row tile this work-item moves, from global memory (scaled by `scale`).
inline void fetch_tile(float4 held[VECTORS_PER_ITEM], __global const float* base, const int row_stride,
                       const int first, const int T, const int lid, const float scale, const bool aligned) {
#pragma unroll
    for (int i = 0; i < VECTORS_PER_ITEM; ++i) {
        const int e = lid + i * THREADS;
        held[i] = e < TILE_VECTORS ? scale * tile_vector(base, row_stride, first, e, T, aligned) : (float4)(0.0f);
    }
}

inline void store_tile(__local float4* tile, const float4 held[VECTORS_PER_ITEM], const int lid) {
#pragma unroll
    for (int i = 0; i < VECTORS_PER_ITEM; ++i) {
        const int e = lid + i * THREADS;
        if (e < TILE_VECTORS) tile[e / HD4 * ROW4 + e % HD4] = held[i];
    }
}

/// attention_forward: out (B, T - q_first, C) and logsumexp (B, NH, T) for the query rows
/// q_first ..< T of each sequence of qkv (B, T, NH + 2·KVH, hs). Training passes q_first = 0; it
/// stays a run-time argument on purpose: compiled as a constant 0, the kernel's register allocation
/// at hs 42 spills (ptx-check). Grid: (ceil((T - q_first)/BLOCK_M)*THREADS, NH, B).
/// attention_cached_forward (KV_CACHE = 1): out (Q, C) for the Q = T - q_first new rows of one
/// sequence, from their queries q (Q, NH, hs) and the cache kv (T, 2, KVH, hs); no logsumexp.
/// Grid: (ceil(Q/BLOCK_M)*THREADS, NH, 1).
/// Local size (THREADS, 1, 1); scale_log2 = log2(e)/sqrt(hs). The work-group attribute stays right
/// before each `void`, where ptx-check looks for it.
#if KV_CACHE
__kernel __attribute__((reqd_work_group_size(THREADS, 1, 1)))
void attention_cached_forward(__global float* out, const int out_off,
                              __global const float* q, const int q_off,
                              __global const float* kv, const int kv_off,
                              const int T, const int NH, const int KVH, const float scale_log2,
                              const int q_first) {
#else
__kernel __attribute__((reqd_work_group_size(THREADS, 1, 1)))
void attention_forward(__global float* out, const int out_off,
                       __global float* lse, const int lse_off,
                       __global const float* qkv, const int qkv_off,
                       const int T, const int NH, const int KVH, const float scale_log2,
                       const int q_first) {
#endif
    __local float4 q_tile[BLOCK_M * ROW4];
    __local float4 k_tile[BLOCK_N * ROW4];
    __local float4 v_tile[BLOCK_N * ROW4];
    __local float p_tile[BLOCK_N * P_STRIDE];
    __local float partial[FWD_TX * BLOCK_M];    // [tx][query]: row maxima, at the end row sums
    const int lid = get_local_id(0), tx = lid % FWD_TX, ty = lid / FWD_TX;
    const int q_block = get_num_groups(0) - 1 - get_group_id(0);  // heaviest first
    const int h = get_group_id(1), b = get_group_id(2);
#if KV_CACHE
    // Query rows from the first new one, C floats apart; cache rows 2·KVH·hs apart, values after
    // the keys.
    const int C = NH * HEAD_DIM, q_stride = C, kv_stride = 2 * KVH * HEAD_DIM;
    const int q_start = q_first + q_block * BLOCK_M;
    __global const float* queries = q + q_off + h * HEAD_DIM;
    __global const float* keys = kv + kv_off + h / (NH / KVH) * HEAD_DIM;
#define KEY_ROWS keys
    const bool aligned = ((q_off | kv_off | HEAD_DIM) & 3) == 0;
#else
    // The KV head's key is in the query head's own row, to_key floats on. Addressing it from the
    // query head's pointer keeps one base pointer in the loop: a second one costs registers that
    // hs 42 with prefetch does not have (ptx-check: spills).
    const int C = NH * HEAD_DIM, q_stride = C + 2 * KVH * HEAD_DIM, kv_stride = q_stride;
    const int to_key = C + (h / (NH / KVH) - h) * HEAD_DIM;
    const int q_start = q_first + q_block * BLOCK_M;
    __global const float* queries = qkv + qkv_off + b * T * q_stride + h * HEAD_DIM;
#define KEY_ROWS (queries + to_key)
    const bool aligned = ((qkv_off | q_stride | HEAD_DIM) & 3) == 0;
#endif

    // Query rows count from q_first in the cache's view, from 0 in qkv.
    const int q_row = KV_CACHE ? q_first : 0;
    for (int e = lid; e < BLOCK_M * HD4; e += THREADS)
        q_tile[e / HD4 * ROW4 + e % HD4] =
            scale_log2 * tile_vector(queries, q_stride, q_start - q_row, e, T - q_row, aligned);
    float4 k_held[VECTORS_PER_ITEM], v_held[VECTORS_PER_ITEM];
    fetch_tile(k_held, KEY_ROWS, kv_stride, 0, T, lid, 1.0f, aligned);
    store_tile(k_tile, k_held, lid);

    float4 o[ROWS][DV4];
    float m[ROWS], l[ROWS];
#pragma unroll
    for (int r = 0; r < ROWS; ++r) {
        m[r] = NEG_BIG;
        l[r] = 0.0f;
#pragma unroll
        for (int j = 0; j < DV4; ++j) o[r][j] = (float4)(0.0f);
    }
    barrier(CLK_LOCAL_MEM_FENCE);

    const int last_key = min(T, q_start + BLOCK_M) - 1;
    for (int k_start = 0; k_start <= last_key; k_start += BLOCK_N) {
        const bool more = k_start + BLOCK_N <= last_key;
#if PREFETCH
        fetch_tile(v_held, KEY_ROWS + KVH * HEAD_DIM, kv_stride, k_start, T, lid, 1.0f, aligned);
        if (more) fetch_tile(k_held, KEY_ROWS, kv_stride, k_start + BLOCK_N, T, lid, 1.0f, aligned);
#endif
        float s[ROWS][KEYS];
#pragma unroll
        for (int r = 0; r < ROWS; ++r)
#pragma unroll
            for (int c = 0; c < KEYS; ++c) s[r][c] = 0.0f;
#pragma unroll
        for (int d4 = 0; d4 < HD4; ++d4) {
            float4 qv[ROWS], kv[KEYS];
#pragma unroll
            for (int r = 0; r < ROWS; ++r) qv[r] = q_tile[(ty + r * TY) * ROW4 + d4];
#pragma unroll
            for (int c = 0; c < KEYS; ++c) kv[c] = k_tile[(tx + c * FWD_TX) * ROW4 + d4];
#pragma unroll
            for (int r = 0; r < ROWS; ++r)
#pragma unroll
                for (int c = 0; c < KEYS; ++c)
                    s[r][c] = fma(qv[r].w, kv[c].w, fma(qv[r].z, kv[c].z, fma(qv[r].y, kv[c].y, fma(qv[r].x, kv[c].x, s[r][c]))));
        }
        // Keys after the query (this also covers zero-filled keys at or past T) only occur in
        // tiles reaching past the block's first query.
        const bool diagonal = k_start + BLOCK_N - 1 > q_start;
#pragma unroll
        for (int r = 0; r < ROWS; ++r) {
            float tile_max = NEG_BIG;
#pragma unroll
            for (int c = 0; c < KEYS; ++c) {
                if (diagonal && k_start + tx + c * FWD_TX > q_start + ty + r * TY) s[r][c] = NEG_BIG;
                tile_max = fmax(tile_max, s[r][c]);
            }
            partial[tx * BLOCK_M + ty + r * TY] = tile_max;
        }
        barrier(CLK_LOCAL_MEM_FENCE);

#pragma unroll
        for (int r = 0; r < ROWS; ++r) {
            float m_new = m[r];
#pragma unroll
            for (int x = 0; x < FWD_TX; ++x) m_new = fmax(m_new, partial[x * BLOCK_M + ty + r * TY]);
            const float alpha = native_exp2(m[r] - m_new);
            m[r] = m_new;
            float sum = 0.0f;
#pragma unroll
            for (int c = 0; c < KEYS; ++c) {
                const float p = native_exp2(s[r][c] - m_new);
                sum += p;
                p_tile[(tx + c * FWD_TX) * P_STRIDE + ty + r * TY] = p;
            }
            l[r] = mad(l[r], alpha, sum);
#pragma unroll
            for (int j = 0; j < DV4; ++j) o[r][j] *= alpha;
        }
#if !PREFETCH
        fetch_tile(v_held, KEY_ROWS + KVH * HEAD_DIM, kv_stride, k_start, T, lid, 1.0f, aligned);
        if (more) fetch_tile(k_held, KEY_ROWS, kv_stride, k_start + BLOCK_N, T, lid, 1.0f, aligned);
#endif
        store_tile(v_tile, v_held, lid);
        if (more) store_tile(k_tile, k_held, lid);
        barrier(CLK_LOCAL_MEM_FENCE);

#pragma unroll
        for (int n = 0; n < BLOCK_N; ++n) {
            float p[ROWS];
#pragma unroll
            for (int r = 0; r < ROWS; ++r) p[r] = p_tile[n * P_STRIDE + ty + r * TY];
#pragma unroll
            for (int j = 0; j < DV4; ++j) {
                if (HD4 % FWD_TX == 0 || tx + j * FWD_TX < HD4) {
                    const float4 v = v_tile[n * ROW4 + tx + j * FWD_TX];
#pragma unroll
                    for (int r = 0; r < ROWS; ++r) o[r][j] = fma((float4)(p[r]), v, o[r][j]);
                }
            }
        }
    }

    // The row sums: each of the FWD_TX work-items of a query group holds a part.
    barrier(CLK_LOCAL_MEM_FENCE);
#pragma unroll
    for (int r = 0; r < ROWS; ++r) partial[tx * BLOCK_M + ty + r * TY] = l[r];
    barrier(CLK_LOCAL_MEM_FENCE);
#pragma unroll
    for (int r = 0; r < ROWS; ++r) {
        const int t = q_start + ty + r * TY;
        float total = 0.0f;
#pragma unroll
        for (int x = 0; x < FWD_TX; ++x) total += partial[x * BLOCK_M + ty + r * TY];
        const float inverse = 1.0f / total;
        __global float* out_row = out + out_off + (b * (T - q_first) + t - q_first) * C + h * HEAD_DIM;
#pragma unroll
        for (int j = 0; j < DV4; ++j) {
            const int d = (tx + j * FWD_TX) * 4;
            const float4 value = o[r][j] * inverse;
            if (t < T && d < HEAD_DIM) out_row[d] = value.x;
            if (t < T && d + 1 < HEAD_DIM) out_row[d + 1] = value.y;
            if (t < T && d + 2 < HEAD_DIM) out_row[d + 2] = value.z;
            if (t < T && d + 3 < HEAD_DIM) out_row[d + 3] = value.w;
        }
#if !KV_CACHE
        if (tx == 0 && t < T) lse[lse_off + (b * NH + h) * T + t] = (m[r] + log2(total)) * LN2;
#endif
    }
}
#undef KEY_ROWS
