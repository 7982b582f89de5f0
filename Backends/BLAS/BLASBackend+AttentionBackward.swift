// Fused causal self-attention backward on the BLAS backend: one (batch, KV head) pair per kernel
// call, the pairs spread over the workers. The kernel (Kernels/AttentionBackwardKernel.swift, in
// the build the CPU runs) rebuilds P from the saved logsumexp block by block (no T×T matrix) for
// each query head of the KV head's group (grouped-query attention: query head h reads KV head
// h / (NH / KVH)), sums the group's dK and dV in its scratch and writes them once. A pair owns
// its KV head's dk and dv rows and its group's dq rows, so pairs run on different workers without
// races; every gradient row is written, none accumulated into (OVERWRITES).

import BLASKernels
import Compute
import HostMemory

extension BLASBackend {
    /// One (batch, KV head) group per kernel call: P rebuilt from logsumexp, the group's dK and dV summed in scratch
    /// and written once.
    public func uncheckedAttentionBackward(dqkv: BufferView, dout: BufferView, qkv: BufferView, out: BufferView,
                                           logsumexp: BufferView, batch: Int, sequenceLength: Int,
                                           heads: Int, kvHeads: Int, headDim: Int) throws {
        let shape = AttentionShape(batch: batch, sequenceLength: sequenceLength, heads: heads, kvHeads: kvHeads,
                                   headDim: headDim)
        let pdqkv = dqkv.hostFloats, pdout = UnsafePointer(dout.hostFloats)
        let pqkv = UnsafePointer(qkv.hostFloats), pout = UnsafePointer(out.hostFloats)
        let plse = UnsafePointer(logsumexp.hostFloats)
        let perWorker = BLASBackend.workerStride(
            AttentionBackwardKernel.scratch(sequenceLength: sequenceLength, headDim: headDim))
        let workspace = scratch(perWorker * threadCount)
        let kernel = kernels.attentionBackward, kvPairs = batch * kvHeads
        parallelWorkers(kvPairs, multiplyAdds: shape.causalMultiplyAdds) { worker, workers in
            for kvPair in kvPairs * worker / workers ..< kvPairs * (worker + 1) / workers {
                let b = kvPair / kvHeads, g = kvPair % kvHeads, firstHead = g * shape.groupSize
                let T = sequenceLength, rows = b * T * shape.rowStride, outRows = b * T * shape.channels
                let firstOut = outRows + firstHead * headDim
                kernel(AttentionGroup(
                    sequenceLength: T, headDim: headDim, groupSize: shape.groupSize, headStride: headDim,
                    queries: pqkv + rows + shape.query(firstHead), keys: pqkv + rows + shape.key(g),
                    values: pqkv + rows + shape.value(g), inputStride: shape.rowStride,
                    out: pout + firstOut, dout: pdout + firstOut, outStride: shape.channels,
                    logsumexp: plse + (b * heads + firstHead) * T,
                    dq: pdqkv + rows + shape.query(firstHead), dk: pdqkv + rows + shape.key(g),
                    dv: pdqkv + rows + shape.value(g)), workspace + worker * perWorker)
            }
        }
    }
}
