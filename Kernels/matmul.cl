// Tiled SGEMM, strided batch: C_b = alpha * op(A_b) * op(B_b) + beta * C_b, row-major, fp32 exact.
//
// Layout: op(A) is M×K (stored K×M when TRANS_A), op(B) is K×N (stored N×K when TRANS_B), C is M×N.
// One work-group computes a TILE_M × TILE_N block of C; the third global dimension is the batch.
//
//            TILE_N (columns of C, work-items along dim 0)
//          +-------------------------------+
//  TILE_M  | each work-item owns THREAD_M × THREAD_N outputs in registers, as THREAD_M/4 ×
//  (rows,  | THREAD_N/4 sub-blocks of 4×4 spaced TILE/(THREAD/4) apart: work-item x holds columns
//   dim 1) | x*4 .. x*4+3, then the same + TILE_N/(THREAD_N/4), ... so neighbouring work-items read
//          | neighbouring float4s of local memory (no bank conflicts) and write neighbouring
//          | float4s of C (coalesced).
//          +-------------------------------+
//
// Main loop, per k-step of TILE_K: the math runs on one local buffer pair (A as [k][m], B as [k][n],
// so every k is THREAD_M/4 + THREAD_N/4 float4 reads for THREAD_M*THREAD_N fmas) while the next
// tile's global loads, issued just before, are in flight in registers; they are then stored into
// the other buffer pair and ONE barrier ends the step. One barrier is enough: the buffer written in
// step t was last read in step t-1, which every work-item finished before that step's barrier.
//
// Global loads move float4s along whichever stored dimension is contiguous when the view offset,
// batch stride and leading dimension are all multiples of 4 (16-byte aligned); otherwise a second
// copy of the main loop loads the four elements one by one. Edges: see below the defines. C is
// written with float4s under the same alignment rule, else element by element, skipping columns
// past N. With beta == 0 C is never read (old NaNs are ignored, as the contract requires). The
// loops over a work-item's registers are all unrolled with compile-time bounds (a run-time index or
// an early `continue` would send the accumulator array to a stack frame in local memory, as ptxas
// reports).
//
// The host picks the tile sizes per device (OpenCLBackend+Matmul.swift); `scripts/ptx-check` shows
// what each configuration costs on sm_90 (registers, spills, resident warps, the FMA share of the
// main loop). CPUs (PoCL) run matmul_rows.cl instead.

#ifndef TILE_M
#define TILE_M 128 // rows of C per work-group
#endif
#ifndef TILE_N
#define TILE_N 128 // columns of C per work-group
#endif
#ifndef TILE_K
#define TILE_K 8 // depth of one local-memory tile (multiple of 4)
#endif
#ifndef THREAD_M
#define THREAD_M 8 // rows of C per work-item (multiple of 4)
#endif
#ifndef THREAD_N
#define THREAD_N 8 // columns of C per work-item (multiple of 4)
#endif
#ifndef TRANS_A
#define TRANS_A 0 // 1: A is stored K×M
#endif
#ifndef TRANS_B
#define TRANS_B 0 // 1: B is stored N×K
#endif

#define THREADS_X (TILE_N / THREAD_N)          // work-items along N (dimension 0)
#define THREADS_Y (TILE_M / THREAD_M)          // work-items along M (dimension 1)
#define THREADS (THREADS_X * THREADS_Y)
#define VECTORS_A (TILE_M * TILE_K / 4 / THREADS) // float4 loads of the A tile per work-item
#define VECTORS_B (TILE_K * TILE_N / 4 / THREADS)
#define BLOCKS_M (THREAD_M / 4)                // 4×4 sub-blocks per work-item
#define BLOCKS_N (THREAD_N / 4)
#define SPACING_M (TILE_M / BLOCKS_M)          // distance between a work-item's sub-blocks
#define SPACING_N (TILE_N / BLOCKS_N)
#define PAD 4                                  // keeps rows float4-aligned, spreads banks
#define ROW_A (TILE_M + PAD)                   // floats per k row of the local A tile
#define ROW_B (TILE_N + PAD)

#if (TILE_M * TILE_K / 4) % THREADS != 0 || (TILE_K * TILE_N / 4) % THREADS != 0 || TILE_K % 4 != 0
#error "tile sizes must give every work-item the same number of float4 loads"
#endif

// Edges. Rows of op(A) past M and columns of op(B) past N only feed outputs that are never stored,
// so their loads are clamped to the last row/column instead of tested (any finite value will do).
// Depth past K feeds every output, so it must read as 0: the main loops run over whole k-steps only,
// and a last partial step, when K is not a multiple of TILE_K, loads with explicit tests.

/// Elements (row, col ..< col+4) of a row-major matrix with leading dimension `ld` (`row` already
/// clamped, the four columns inside): one 16-byte load when `vector` (the caller checked
/// alignment), else four loads.
inline float4 load4(__global const float* m, const int row, const int col, const int ld, const bool vector) {
    __global const float* p = m + (long)row * ld + col;
    if (vector) return *(__global const float4*)p;
    return (float4)(p[0], p[1], p[2], p[3]);
}

/// The same with the columns clamped to `cols` (= ld): with `vector`, cols is a multiple of 4 and
/// a vector is wholly inside or wholly outside, so the vector itself is clamped.
inline float4 load4_clamped(__global const float* m, const int row, const int col, const int cols, const bool vector) {
    __global const float* r = m + (long)row * cols;
    if (vector) return *(__global const float4*)(r + min(col, cols - 4));
    return (float4)(r[min(col, cols - 1)], r[min(col + 1, cols - 1)], r[min(col + 2, cols - 1)],
                    r[min(col + 3, cols - 1)]);
}

/// The same for the last partial k-step: elements at or past `cols` (or a row past `rows`) read 0.
inline float4 load4_tested(__global const float* m, const int row, const int col, const int rows,
                           const int cols) {
    __global const float* p = m + (long)min(row, rows - 1) * cols + col;
    float4 v = (float4)(0.0f);
    if (row < rows) {
        if (col < cols) v.x = p[0];
        if (col + 1 < cols) v.y = p[1];
        if (col + 2 < cols) v.z = p[2];
        if (col + 3 < cols) v.w = p[3];
    }
    return v;
}

// How the float4s of a tile map to work-items: vector v of the A tile (TILE_M × TILE_K of op(A)) covers
// 4 consecutive stored elements; consecutive work-items take consecutive vectors, so loads coalesce.
#if TRANS_A   // A stored K×M: vectors run along m, rows of the stored tile are k
#define A_STORED_ROW(v) ((v) / (TILE_M / 4))
#define A_STORED_COL(v) ((v) % (TILE_M / 4) * 4)
#else         // A stored M×K: vectors run along k, rows of the stored tile are m
#define A_STORED_ROW(v) ((v) / (TILE_K / 4))
#define A_STORED_COL(v) ((v) % (TILE_K / 4) * 4)
#endif
#if TRANS_B   // B stored N×K: vectors run along k
#define B_STORED_ROW(v) ((v) / (TILE_K / 4))
#define B_STORED_COL(v) ((v) % (TILE_K / 4) * 4)
#else         // B stored K×N: vectors run along n
#define B_STORED_ROW(v) ((v) / (TILE_N / 4))
#define B_STORED_COL(v) ((v) % (TILE_N / 4) * 4)
#endif

/// A whole k-step (starting at k0 + TILE_K <= K) of A and B from global memory into registers.
/// Along m and n the position is clamped (see load4_clamped).
inline void fetch_tiles(float4 a_next[VECTORS_A], float4 b_next[VECTORS_B],
                        __global const float* a, __global const float* b, const int tid,
                        const int row0, const int col0, const int k0, const int M, const int N, const int K,
                        const bool vectors) {
#pragma unroll
    for (int l = 0; l < VECTORS_A; ++l) {
        const int v = l * THREADS + tid;
#if TRANS_A
        a_next[l] = load4_clamped(a, k0 + A_STORED_ROW(v), row0 + A_STORED_COL(v), M, vectors);
#else
        a_next[l] = load4(a, min(row0 + A_STORED_ROW(v), M - 1), k0 + A_STORED_COL(v), K, vectors);
#endif
    }
#pragma unroll
    for (int l = 0; l < VECTORS_B; ++l) {
        const int v = l * THREADS + tid;
#if TRANS_B
        b_next[l] = load4(b, min(col0 + B_STORED_ROW(v), N - 1), k0 + B_STORED_COL(v), K, vectors);
#else
        b_next[l] = load4_clamped(b, k0 + B_STORED_ROW(v), col0 + B_STORED_COL(v), N, vectors);
#endif
    }
}

/// The last, partial k-step (k0 < K < k0 + TILE_K), every element tested.
inline void fetch_last_tiles(float4 a_next[VECTORS_A], float4 b_next[VECTORS_B],
                             __global const float* a, __global const float* b, const int tid,
                             const int row0, const int col0, const int k0, const int M, const int N, const int K) {
#pragma unroll
    for (int l = 0; l < VECTORS_A; ++l) {
        const int v = l * THREADS + tid;
#if TRANS_A
        a_next[l] = load4_tested(a, k0 + A_STORED_ROW(v), row0 + A_STORED_COL(v), K, M);
#else
        a_next[l] = load4_tested(a, row0 + A_STORED_ROW(v), k0 + A_STORED_COL(v), M, K);
#endif
    }
#pragma unroll
    for (int l = 0; l < VECTORS_B; ++l) {
        const int v = l * THREADS + tid;
#if TRANS_B
        b_next[l] = load4_tested(b, col0 + B_STORED_ROW(v), k0 + B_STORED_COL(v), N, K);
#else
        b_next[l] = load4_tested(b, k0 + B_STORED_ROW(v), col0 + B_STORED_COL(v), K, N);
#endif
    }
}

/// Registers -> one local buffer pair, as [k][m] and [k][n] (a vector along k becomes a column).
inline void store_tiles(__local float* a_tile, __local float* b_tile, const float4 a_next[VECTORS_A],
                        const float4 b_next[VECTORS_B], const int tid) {
#pragma unroll
    for (int l = 0; l < VECTORS_A; ++l) {
        const int v = l * THREADS + tid;
#if TRANS_A
        *(__local float4*)(a_tile + A_STORED_ROW(v) * ROW_A + A_STORED_COL(v)) = a_next[l];
#else
        __local float* column = a_tile + A_STORED_COL(v) * ROW_A + A_STORED_ROW(v);
        column[0] = a_next[l].x; column[ROW_A] = a_next[l].y;
        column[2 * ROW_A] = a_next[l].z; column[3 * ROW_A] = a_next[l].w;
#endif
    }
#pragma unroll
    for (int l = 0; l < VECTORS_B; ++l) {
        const int v = l * THREADS + tid;
#if TRANS_B
        __local float* column = b_tile + B_STORED_COL(v) * ROW_B + B_STORED_ROW(v);
        column[0] = b_next[l].x; column[ROW_B] = b_next[l].y;
        column[2 * ROW_B] = b_next[l].z; column[3 * ROW_B] = b_next[l].w;
#else
        *(__local float4*)(b_tile + B_STORED_ROW(v) * ROW_B + B_STORED_COL(v)) = b_next[l];
#endif
    }
}

/// acc += the TILE_K rank-1 updates of one local buffer pair.
inline void multiply_tiles(float4 acc[THREAD_M][BLOCKS_N], __local const float* a_tile,
                           __local const float* b_tile, const int tx, const int ty) {
#pragma unroll
    for (int p = 0; p < TILE_K; ++p) {
        float4 a4[BLOCKS_M], b4[BLOCKS_N];
#pragma unroll
        for (int bm = 0; bm < BLOCKS_M; ++bm)
            a4[bm] = *(__local const float4*)(a_tile + p * ROW_A + bm * SPACING_M + ty * 4);
#pragma unroll
        for (int bn = 0; bn < BLOCKS_N; ++bn)
            b4[bn] = *(__local const float4*)(b_tile + p * ROW_B + bn * SPACING_N + tx * 4);
#pragma unroll
        for (int bm = 0; bm < BLOCKS_M; ++bm) {
#pragma unroll
            for (int bn = 0; bn < BLOCKS_N; ++bn) {
                acc[bm * 4 + 0][bn] = fma((float4)(a4[bm].x), b4[bn], acc[bm * 4 + 0][bn]);
                acc[bm * 4 + 1][bn] = fma((float4)(a4[bm].y), b4[bn], acc[bm * 4 + 1][bn]);
                acc[bm * 4 + 2][bn] = fma((float4)(a4[bm].z), b4[bn], acc[bm * 4 + 2][bn]);
                acc[bm * 4 + 3][bn] = fma((float4)(a4[bm].w), b4[bn], acc[bm * 4 + 3][bn]);
            }
        }
    }
}

/// C[row, col ..< col+4] = alpha * value + beta * C (C not read when beta == 0), skipping columns
/// past N; one 16-byte access when `aligned` and all four are inside.
inline void store4(__global float* c_row, const int col, const int N, const float4 value, const float alpha,
                   const float beta, const bool aligned) {
    __global float* p = c_row + col;
    if (aligned && col + 3 < N) {
        __global float4* p4 = (__global float4*)p;
        *p4 = beta == 0.0f ? alpha * value : fma((float4)(beta), *p4, alpha * value);
        return;
    }
    const float v[4] = {value.x, value.y, value.z, value.w};
#pragma unroll
    for (int j = 0; j < 4; ++j)
        if (col + j < N) p[j] = beta == 0.0f ? alpha * v[j] : fma(beta, p[j], alpha * v[j]);
}

/// The whole k-steps 0 ..< steps, double-buffered: tile t+1's global loads are in flight during
/// tile t's math, then stored into the other buffer pair; one barrier per step. Ends with a barrier
/// (both buffers free). `vectors` is a constant at each call, so each call is its own loop.
inline void main_loop(float4 acc[THREAD_M][BLOCKS_N], __local float* a_tiles, __local float* b_tiles,
                      __global const float* a, __global const float* b, const int tid, const int tx, const int ty,
                      const int row0, const int col0, const int steps, const int M, const int N, const int K,
                      const bool vectors) {
    if (steps == 0) return;
    float4 a_next[VECTORS_A], b_next[VECTORS_B];
    fetch_tiles(a_next, b_next, a, b, tid, row0, col0, 0, M, N, K, vectors);
    store_tiles(a_tiles, b_tiles, a_next, b_next, tid);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int step = 0; step < steps; ++step) {
        const int current = (step & 1) * TILE_K, next = TILE_K - current;
        const bool more = step + 1 < steps;
        if (more) fetch_tiles(a_next, b_next, a, b, tid, row0, col0, (step + 1) * TILE_K, M, N, K, vectors);
        multiply_tiles(acc, a_tiles + current * ROW_A, b_tiles + current * ROW_B, tx, ty);
        if (more) store_tiles(a_tiles + next * ROW_A, b_tiles + next * ROW_B, a_next, b_next, tid);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

__kernel __attribute__((reqd_work_group_size(THREADS_X, THREADS_Y, 1)))
void matmul_tiled(__global float* c, const int c_off,
                  __global const float* a, const int a_off,
                  __global const float* b, const int b_off,
                  const int M, const int N, const int K,
                  const float alpha, const float beta,
                  const int stride_a, const int stride_b, const int stride_c) {
    __local float4 a_tiles4[2 * TILE_K * ROW_A / 4];   // two buffers of [TILE_K][ROW_A]
    __local float4 b_tiles4[2 * TILE_K * ROW_B / 4];
    __local float* a_tiles = (__local float*)a_tiles4;
    __local float* b_tiles = (__local float*)b_tiles4;

    const int tx = get_local_id(0), ty = get_local_id(1);
    const int tid = ty * THREADS_X + tx;
    const int row0 = get_group_id(1) * TILE_M;
    const int col0 = get_group_id(0) * TILE_N;
    const long batch = get_global_id(2);
    a += a_off + batch * stride_a;
    b += b_off + batch * stride_b;
    c += c_off + batch * stride_c;
    // 16-byte accesses need the view, the batch stride and the leading dimension aligned to 4 floats.
    const bool a_aligned = ((a_off | stride_a | (TRANS_A ? M : K)) & 3) == 0;
    const bool b_aligned = ((b_off | stride_b | (TRANS_B ? K : N)) & 3) == 0;
    const bool c_aligned = ((c_off | stride_c | N) & 3) == 0;

    float4 acc[THREAD_M][BLOCKS_N];
#pragma unroll
    for (int i = 0; i < THREAD_M; ++i)
#pragma unroll
        for (int bn = 0; bn < BLOCKS_N; ++bn) acc[i][bn] = (float4)(0.0f);

    // Two copies of the main loop, with and without 16-byte loads, so neither carries the other's
    // address arithmetic; then the last partial k-step, if any, with every element tested.
    const int steps = K / TILE_K;
    if (a_aligned && b_aligned)
        main_loop(acc, a_tiles, b_tiles, a, b, tid, tx, ty, row0, col0, steps, M, N, K, true);
    else
        main_loop(acc, a_tiles, b_tiles, a, b, tid, tx, ty, row0, col0, steps, M, N, K, false);
    if (steps * TILE_K < K) {
        float4 a_next[VECTORS_A], b_next[VECTORS_B];
        const int current = (steps & 1) * TILE_K;
        fetch_last_tiles(a_next, b_next, a, b, tid, row0, col0, steps * TILE_K, M, N, K);
        store_tiles(a_tiles + current * ROW_A, b_tiles + current * ROW_B, a_next, b_next, tid);
        barrier(CLK_LOCAL_MEM_FENCE);
        multiply_tiles(acc, a_tiles + current * ROW_A, b_tiles + current * ROW_B, tx, ty);
    }

#pragma unroll
    for (int bm = 0; bm < BLOCKS_M; ++bm) {
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            const int row = row0 + bm * SPACING_M + ty * 4 + i;
            if (row < M) {
                __global float* c_row = c + (long)row * N;
#pragma unroll
                for (int bn = 0; bn < BLOCKS_N; ++bn)
                    store4(c_row, col0 + bn * SPACING_N + tx * 4, N, acc[bm * 4 + i][bn], alpha, beta, c_aligned);
            }
        }
    }
}
