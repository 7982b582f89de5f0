// matmul_rows.cl: the CPU variant of SGEMM (same contract as matmul.cl; PoCL runs it).
// Layout: op(A) is M×K (stored K×M when TRANS_A), op(B) is K×N (stored N×K when TRANS_B), C is M×N.

#ifndef TRANS_A
#define TRANS_A 0 // 1: A is stored K×M
#endif
#ifndef TRANS_B
#define TRANS_B 0 // 1: B is stored N×K
#endif

/// Element (row, p) of op(A) within batch item `a`, or 0 outside M×K (matmul_rows' loads).
inline float load_a(__global const float* a, int row, int p, int M, int K) {
    if (row >= M || p >= K) return 0.0f;
#if TRANS_A
    return a[(long)p * M + row];
#else
    return a[(long)row * K + p];
#endif
}

/// Element (p, col) of op(B) within batch item `b`, or 0 outside K×N (matmul_rows' loads).
inline float load_b(__global const float* b, int p, int col, int K, int N) {
    if (p >= K || col >= N) return 0.0f;
#if TRANS_B
    return b[(long)col * K + p];
#else
    return b[(long)p * N + col];
#endif
}

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
