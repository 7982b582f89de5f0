// Fused causal self-attention forward on the BLAS backend: one (batch, query head) pair per kernel
// call, the pairs spread over the workers. The kernel (Kernels/AttentionKernel.swift, in the
// build the CPU runs) never forms the T×T matrix: 16 queries at a time against the keys they see,
// with its own register-blocked products (Kernels/TileGEMM.swift), because at attention's sizes an
// sgemm call costs more in packing and dispatch than it computes. Every pair is the same amount of
// work and owns its rows of out and logsumexp, so workers never share an output. Grouped-query
// attention: qkv rows are (NH + 2·KVH, hs), and query head h reads KV head h / (NH / KVH).

import BLASKernels
import Compute
import HostMemory

extension BLASBackend {
    /// Sizes shared by the attention forward and backward.
    struct AttentionShape {
        let batch: Int, sequenceLength: Int, heads: Int, kvHeads: Int, headDim: Int
        var channels: Int { heads * headDim }
        /// A qkv row: NH query heads, KVH keys, KVH values.
        var rowStride: Int { (heads + 2 * kvHeads) * headDim }
        /// Query heads per KV head.
        var groupSize: Int { heads / kvHeads }
        /// Offsets in a qkv row of query head h, and of KV head g's key and value.
        func query(_ h: Int) -> Int { h * headDim }
        func key(_ g: Int) -> Int { channels + g * headDim }
        func value(_ g: Int) -> Int { channels + (kvHeads + g) * headDim }
        /// Multiply-adds of one product over every causal (query, key) pair of every query head:
        /// the forward makes two such products, the backward five.
        var causalMultiplyAdds: Int { batch * heads * sequenceLength * (sequenceLength + 1) / 2 * headDim }
    }

    /// Per-worker scratch rounded up to whole 64-byte lines, so every worker's vectors start aligned
    /// and no two workers write the same cache line.
    static func workerStride(_ floats: Int) -> Int { (floats + 15) / 16 * 16 }

    /// One (batch, query head) pair per kernel call, pairs spread over the workers; tiny attention stays on the calling
    /// thread.
    public func uncheckedAttentionForward(out: BufferView, logsumexp: BufferView, qkv: BufferView, batch: Int,
                                          sequenceLength: Int, heads: Int, kvHeads: Int, headDim: Int) throws {
        let shape = AttentionShape(batch: batch, sequenceLength: sequenceLength, heads: heads, kvHeads: kvHeads,
                                   headDim: headDim)
        let po = out.hostFloats, plse = logsumexp.hostFloats, pqkv = qkv.hostFloats
        let perWorker = BLASBackend.workerStride(
            AttentionKernel.forwardScratch(sequenceLength: sequenceLength, headDim: headDim))
        let workspace = scratch(perWorker * threadCount)
        let kernel = kernels.attentionForward, pairs = batch * heads
        parallelWorkers(pairs, multiplyAdds: shape.causalMultiplyAdds) { worker, workers in
            for pair in pairs * worker / workers ..< pairs * (worker + 1) / workers {
                let b = pair / heads, h = pair % heads, g = h / shape.groupSize
                let T = sequenceLength, base = UnsafePointer(pqkv + b * T * shape.rowStride)
                kernel(AttentionPair(
                    sequenceLength: T, headDim: headDim, queries: base + shape.query(h), keys: base + shape.key(g),
                    values: base + shape.value(g), inputStride: shape.rowStride,
                    out: po + b * T * shape.channels + h * headDim, outStride: shape.channels,
                    logsumexp: plse + pair * T), workspace + worker * perWorker)
            }
        }
    }
}
