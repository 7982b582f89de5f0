// Tiled SGEMM, strided batch: C_b = alpha * op(A_b) * op(B_b) + beta * C_b, row-major, fp32 exact.
//
// Layout: op(A) is M×K (stored K×M when TRANS_A), op(B) is K×N (stored N×K when TRANS_B), C is M×N.
// One work-group computes a TILE_M × TILE_N block of C; the third global dimension is the batch.
//
//            TILE_N (columns of C, work-items along dim 0)
//          +-------------------------------+
//  TILE_M  | each work-item owns THREAD_M × THREAD_N outputs, as THREAD_M/4 × THREAD_N/4
//  (rows,  | 4×4 sub-blocks spaced TILE/(THREAD/4) apart: work-item x holds columns
//   dim 1) | x*4 .. x*4+3, then the same + TILE_N/(THREAD_N/4), ... so neighbouring work-items
//          | read neighbouring float4s from local memory (no bank conflicts) and write
//          | neighbouring float4s of C (coalesced).
//          +-------------------------------+
//
// Per k-step of TILE_K: every work-item loads its share of the A and B tiles from global memory
// into registers (coalesced along whichever stored dimension is contiguous), stores them into
// local memory transposed to [k][m] and [k][n], and the block then runs TILE_K rank-1 updates out of
// local memory with float4 reads and THREAD_M*THREAD_N fmas per k. The global loads for tile t+1
// are issued before the math on tile t (register double buffering), hiding global latency.
// Edges: any M, N, K. Loads outside the matrix read 0; stores are bounds-checked. Global loads are
// scalar because views start at arbitrary element offsets (float4 alignment is not guaranteed).
// With beta == 0, C is never read (old NaNs are ignored, as the contract requires).
//
// Defaults (128×128×16, 8×8 per work-item, 256 work-items, 16 KiB local) target the H100: 64 fmas
// per 16 local loads, two work-groups per SM. The host picks smaller tiles for CPUs (PoCL) and small
// matrices via -D.

#ifndef TILE_M
#define TILE_M 128 // rows of C per work-group
#endif
#ifndef TILE_N
#define TILE_N 128 // columns of C per work-group
#endif
#ifndef TILE_K
#define TILE_K 16 // depth of one local-memory tile
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
#define LOADS_A (TILE_M * TILE_K / THREADS)    // A-tile elements each work-item loads
#define LOADS_B (TILE_K * TILE_N / THREADS)
#define BLOCKS_M (THREAD_M / 4)                // 4×4 sub-blocks per work-item
#define BLOCKS_N (THREAD_N / 4)
#define SPACING_M (TILE_M / BLOCKS_M)          // distance between a work-item's sub-blocks
#define SPACING_N (TILE_N / BLOCKS_N)
#define PAD 4                                  // keeps rows float4-aligned, spreads banks

#if (TILE_M * TILE_K) % THREADS != 0 || (TILE_K * TILE_N) % THREADS != 0
#error "tile sizes must give every work-item the same number of loads"
#endif

/// Element (row, p) of op(A) within batch item `a`, or 0 outside M×K.
inline float load_a(__global const float* a, int row, int p, int M, int K) {
    if (row >= M || p >= K) return 0.0f;
#if TRANS_A
    return a[(long)p * M + row];
#else
    return a[(long)row * K + p];
#endif
}

/// Element (p, col) of op(B) within batch item `b`, or 0 outside K×N.
inline float load_b(__global const float* b, int p, int col, int K, int N) {
    if (p >= K || col >= N) return 0.0f;
#if TRANS_B
    return b[(long)col * K + p];
#else
    return b[(long)p * N + col];
#endif
}

/// Which (row-in-tile, p-in-tile) the i-th load of work-item `tid` covers: the contiguous stored
/// dimension varies fastest across work-items, so each load instruction is coalesced.
#if TRANS_A
#define A_ROW(idx) ((idx) % TILE_M)
#define A_P(idx) ((idx) / TILE_M)
#else
#define A_ROW(idx) ((idx) / TILE_K)
#define A_P(idx) ((idx) % TILE_K)
#endif
#if TRANS_B
#define B_COL(idx) ((idx) / TILE_K)
#define B_P(idx) ((idx) % TILE_K)
#else
#define B_COL(idx) ((idx) % TILE_N)
#define B_P(idx) ((idx) / TILE_N)
#endif

__kernel __attribute__((reqd_work_group_size(THREADS_X, THREADS_Y, 1)))
void matmul_tiled(__global float* c, const int c_off,
                  __global const float* a, const int a_off,
                  __global const float* b, const int b_off,
                  const int M, const int N, const int K,
                  const float alpha, const float beta,
                  const int stride_a, const int stride_b, const int stride_c) {
    __local float4 a_tile4[TILE_K * (TILE_M + PAD) / 4];
    __local float4 b_tile4[TILE_K * (TILE_N + PAD) / 4];
    __local float* a_tile = (__local float*)a_tile4;   // [TILE_K][TILE_M + PAD]
    __local float* b_tile = (__local float*)b_tile4;   // [TILE_K][TILE_N + PAD]

    const int tx = get_local_id(0), ty = get_local_id(1);
    const int tid = ty * THREADS_X + tx;
    const int row0 = get_group_id(1) * TILE_M;
    const int col0 = get_group_id(0) * TILE_N;
    const long batch = get_global_id(2);
    a += a_off + batch * stride_a;
    b += b_off + batch * stride_b;
    c += c_off + batch * stride_c;

    float acc[THREAD_M][THREAD_N];
    for (int i = 0; i < THREAD_M; ++i)
        for (int j = 0; j < THREAD_N; ++j) acc[i][j] = 0.0f;

    float a_next[LOADS_A], b_next[LOADS_B];
    for (int l = 0; l < LOADS_A; ++l) {
        const int idx = l * THREADS + tid;
        a_next[l] = load_a(a, row0 + A_ROW(idx), A_P(idx), M, K);
    }
    for (int l = 0; l < LOADS_B; ++l) {
        const int idx = l * THREADS + tid;
        b_next[l] = load_b(b, B_P(idx), col0 + B_COL(idx), K, N);
    }

    for (int k0 = 0; k0 < K; k0 += TILE_K) {
        barrier(CLK_LOCAL_MEM_FENCE);   // everyone is done reading the previous tile
        for (int l = 0; l < LOADS_A; ++l) {
            const int idx = l * THREADS + tid;
            a_tile[A_P(idx) * (TILE_M + PAD) + A_ROW(idx)] = a_next[l];
        }
        for (int l = 0; l < LOADS_B; ++l) {
            const int idx = l * THREADS + tid;
            b_tile[B_P(idx) * (TILE_N + PAD) + B_COL(idx)] = b_next[l];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        const int k1 = k0 + TILE_K;
        if (k1 < K) {   // start the next tile's global loads; they complete during the math below
            for (int l = 0; l < LOADS_A; ++l) {
                const int idx = l * THREADS + tid;
                a_next[l] = load_a(a, row0 + A_ROW(idx), k1 + A_P(idx), M, K);
            }
            for (int l = 0; l < LOADS_B; ++l) {
                const int idx = l * THREADS + tid;
                b_next[l] = load_b(b, k1 + B_P(idx), col0 + B_COL(idx), K, N);
            }
        }
        #pragma unroll
        for (int p = 0; p < TILE_K; ++p) {
            float a_reg[THREAD_M], b_reg[THREAD_N];
            #pragma unroll
            for (int bm = 0; bm < BLOCKS_M; ++bm) {
                const float4 v = a_tile4[(p * (TILE_M + PAD) + bm * SPACING_M + ty * 4) / 4];
                a_reg[bm * 4 + 0] = v.x; a_reg[bm * 4 + 1] = v.y; a_reg[bm * 4 + 2] = v.z; a_reg[bm * 4 + 3] = v.w;
            }
            #pragma unroll
            for (int bn = 0; bn < BLOCKS_N; ++bn) {
                const float4 v = b_tile4[(p * (TILE_N + PAD) + bn * SPACING_N + tx * 4) / 4];
                b_reg[bn * 4 + 0] = v.x; b_reg[bn * 4 + 1] = v.y; b_reg[bn * 4 + 2] = v.z; b_reg[bn * 4 + 3] = v.w;
            }
            #pragma unroll
            for (int i = 0; i < THREAD_M; ++i)
                #pragma unroll
                for (int j = 0; j < THREAD_N; ++j) acc[i][j] = fma(a_reg[i], b_reg[j], acc[i][j]);
        }
    }

    for (int bm = 0; bm < BLOCKS_M; ++bm) {
        for (int i = 0; i < 4; ++i) {
            const int row = row0 + bm * SPACING_M + ty * 4 + i;
            if (row >= M) continue;
            for (int bn = 0; bn < BLOCKS_N; ++bn) {
                for (int j = 0; j < 4; ++j) {
                    const int col = col0 + bn * SPACING_N + tx * 4 + j;
                    if (col >= N) continue;
                    const long at = (long)row * N + col;
                    const float value = alpha * acc[bm * 4 + i][bn * 4 + j];
                    c[at] = beta == 0.0f ? value : fma(beta, c[at], value);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// matmul_rows: the CPU variant (PoCL). No local memory and no barriers (PoCL runs a work-group as
// a loop, and private arrays that live across barriers cost it dearly). Each work-item owns ROWS
// rows × 16 columns of C as 2·ROWS float8 accumulators (explicit AVX-width vectors rather than
// relying on the implicit vectoriser); at every p it loads 16 elements of op(B) (two vload8 when
// B is not transposed and the columns are in range, else guarded scalar loads) and ROWS scalars of
// op(A), and does 2·ROWS vector fmas. When B is transposed and A is not (x · Wᵀ, the common
// forward case), both operands are contiguous along k, so the work-item instead owns ROWS × 4
// outputs as dot products over float8 chunks of k (no gathers). Same arguments, layout and
// semantics as matmul_tiled.

#ifndef ROWS
#define ROWS 4 // rows of C per work-item in matmul_rows
#endif

/// op(B)[p, col ..< col + 8], zero past N.
inline float8 load_b8(__global const float* b, int p, int col, int K, int N) {
#if !TRANS_B
    if (col + 8 <= N) return vload8(0, b + (long)p * N + col);
#endif
    float v[8];
    for (int j = 0; j < 8; ++j) v[j] = load_b(b, p, col + j, K, N);
    return (float8)(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
}

__kernel void matmul_rows(__global float* c, const int c_off,
                          __global const float* a, const int a_off,
                          __global const float* b, const int b_off,
                          const int M, const int N, const int K,
                          const float alpha, const float beta,
                          const int stride_a, const int stride_b, const int stride_c) {
    const int col0 = get_global_id(0) * 16;
    const int row0 = get_global_id(1) * ROWS;
    const long batch = get_global_id(2);
    if (col0 >= N || row0 >= M) return;
    a += a_off + batch * stride_a;
    b += b_off + batch * stride_b;
    c += c_off + batch * stride_c;
#if TRANS_B && !TRANS_A
    // 16 columns as four passes of 4 dot-product columns each.
    for (int quarter = 0; quarter < 4; ++quarter) {
        const int col = col0 + quarter * 4;
        if (col >= N) break;
        float8 dots[ROWS][4];
        for (int i = 0; i < ROWS; ++i)
            for (int j = 0; j < 4; ++j) dots[i][j] = (float8)(0.0f);
        // Out-of-range rows and columns reuse the last valid one (in bounds) and are not stored.
        int rows_at[ROWS], cols_at[4];
        for (int i = 0; i < ROWS; ++i) rows_at[i] = min(row0 + i, M - 1);
        for (int j = 0; j < 4; ++j) cols_at[j] = min(col + j, N - 1);
        const int k8 = K / 8 * 8;
        for (int p = 0; p < k8; p += 8) {
            float8 bv[4];
            for (int j = 0; j < 4; ++j) bv[j] = vload8(0, b + (long)cols_at[j] * K + p);
            for (int i = 0; i < ROWS; ++i) {
                const float8 av = vload8(0, a + (long)rows_at[i] * K + p);
                for (int j = 0; j < 4; ++j) dots[i][j] = fma(av, bv[j], dots[i][j]);
            }
        }
        for (int i = 0; i < ROWS && row0 + i < M; ++i) {
            for (int j = 0; j < 4 && col + j < N; ++j) {
                const float8 d = dots[i][j];
                float sum = ((d.s0 + d.s1) + (d.s2 + d.s3)) + ((d.s4 + d.s5) + (d.s6 + d.s7));
                for (int p = k8; p < K; ++p) sum = fma(a[(long)rows_at[i] * K + p], b[(long)cols_at[j] * K + p], sum);
                const long at = (long)(row0 + i) * N + col + j;
                const float value = alpha * sum;
                c[at] = beta == 0.0f ? value : fma(beta, c[at], value);
            }
        }
    }
#else
    float8 left[ROWS], right[ROWS];
    for (int i = 0; i < ROWS; ++i) { left[i] = (float8)(0.0f); right[i] = (float8)(0.0f); }
    for (int p = 0; p < K; ++p) {
        const float8 b0 = load_b8(b, p, col0, K, N);
        const float8 b1 = load_b8(b, p, col0 + 8, K, N);
        for (int i = 0; i < ROWS; ++i) {
            const float av = load_a(a, row0 + i, p, M, K);
            left[i] = fma((float8)(av), b0, left[i]);
            right[i] = fma((float8)(av), b1, right[i]);
        }
    }
    for (int i = 0; i < ROWS; ++i) {
        const int row = row0 + i;
        if (row >= M) break;
        float values[16];
        vstore8(left[i], 0, values);
        vstore8(right[i], 1, values);
        for (int j = 0; j < 16 && col0 + j < N; ++j) {
            const long at = (long)row * N + col0 + j;
            const float value = alpha * values[j];
            c[at] = beta == 0.0f ? value : fma(beta, c[at], value);
        }
    }
#endif
}
