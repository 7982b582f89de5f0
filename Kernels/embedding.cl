// Token embedding: forward gather and a deterministic backward scatter-add (no float atomics).
//
// Forward: one work-item per (column, token): out[i, c] = table[tokens[i], c] (coalesced along c).
// A token outside 0..<V writes NaN, so a bad id poisons the loss visibly instead of reading out of
// bounds (the host cannot check device-resident tokens without a sync).
//
// Backward, in two kernels, for dtable[tokens[i], :] += dout[i, :] summed in increasing i:
// 1. `embedding_chain`: for each i, next[i] = the smallest j > i with tokens[j] == tokens[i] (or
//    N) and head[i] = 1 when no j < i has that token. Each work-group stages CHAIN_TILE tokens at
//    a time in local memory and every work-item compares its token against them: O(N^2) compares,
//    trivial for N = B*T = 8192 on a GPU (67M local-memory compares).
// 2. `embedding_backward`: one work-item per (column, i); heads walk their token's chain in
//    increasing i, adding dout[j, c] into a register that starts from dtable[t, c], then store once.
//    Parallel over distinct tokens × C, sequential (and so deterministic) within a row of dtable;
//    reads of dout are coalesced along c.

#ifndef CHAIN_TILE
#define CHAIN_TILE 256 // tokens staged in local memory per step (= work-group size of the chain kernel)
#endif

__kernel void embedding_forward(__global float* out, const int out_off,
                                __global const float* table, const int table_off,
                                __global const int* tokens, const int tokens_off,
                                const int count, const int dim, const int vocabulary) {
    const int c = get_global_id(0), i = get_global_id(1);
    if (c >= dim || i >= count) return;
    const int token = tokens[tokens_off + i];
    out[out_off + (long)i * dim + c] =
        (token >= 0 && token < vocabulary) ? table[table_off + (long)token * dim + c] : NAN;
}

/// chain[i] = next occurrence of tokens[i] after i (count when none); chain[count + i] = 1 when
/// i is the first occurrence, else 0.
__kernel __attribute__((reqd_work_group_size(CHAIN_TILE, 1, 1)))
void embedding_chain(__global int* chain, const int chain_off,
                     __global const int* tokens, const int tokens_off, const int count) {
    __local int staged[CHAIN_TILE];
    const int i = get_global_id(0), lid = get_local_id(0);
    const int mine = i < count ? tokens[tokens_off + i] : -1;
    int next = count, head = 1;
    for (int start = 0; start < count; start += CHAIN_TILE) {
        barrier(CLK_LOCAL_MEM_FENCE);
        staged[lid] = start + lid < count ? tokens[tokens_off + start + lid] : -2;
        barrier(CLK_LOCAL_MEM_FENCE);
        const int span = min(CHAIN_TILE, count - start);
        for (int k = 0; k < span; ++k) {
            const int j = start + k;
            if (staged[k] == mine) {
                if (j < i) head = 0;
                else if (j > i && j < next) next = j;
            }
        }
    }
    if (i < count) {
        chain[chain_off + i] = next;
        chain[chain_off + count + i] = head;
    }
}

/// For each first occurrence i of token t and column c:
/// dtable[t, c] += dout[i, c] + dout[next(i), c] + ..., added in increasing order.
__kernel void embedding_backward(__global float* dtable, const int dtable_off,
                                 __global const float* dout, const int dout_off,
                                 __global const int* tokens, const int tokens_off,
                                 __global const int* chain, const int chain_off,
                                 const int count, const int dim, const int vocabulary) {
    const int c = get_global_id(0), i = get_global_id(1);
    if (c >= dim || i >= count || chain[chain_off + count + i] == 0) return;
    const int token = tokens[tokens_off + i];
    if (token < 0 || token >= vocabulary) return;
    __global float* row = dtable + dtable_off + (long)token * dim;
    float sum = row[c];
    for (int j = i; j < count; j = chain[chain_off + j]) sum += dout[dout_off + (long)j * dim + c];
    row[c] = sum;
}
