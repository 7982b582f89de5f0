// Token embedding (Kernels/embedding.cl): gather forward; deterministic backward through per-token
// occurrence chains (each row of dtable summed in increasing token index, no float atomics).

import Compute

extension OpenCLBackend {
    /// Enqueues the gather `embedding_forward`; returns once queued.
    public func uncheckedEmbeddingForward(out: BufferView, table: BufferView, tokens: BufferView,
                                          count: Int, dim: Int) throws {
        let local = [min(64, elementThreads), 1]
        try launch("embedding_forward", program: .embedding, global: [roundUp(dim, local[0]), count], local: local,
                   [.view(out), .view(table), .view(tokens), .int(count), .int(dim), .int(table.count / dim)])
    }

    /// Links each token's positions in increasing order (`embedding_chain`), then sums each
    /// dtable row along its chain (`embedding_backward`): deterministic, no float atomics; returns once queued.
    public func uncheckedEmbeddingBackward(dtable: BufferView, dout: BufferView, tokens: BufferView,
                                           count: Int, dim: Int) throws {
        let chain = try scratch(2 * count, .int32)
        let tile = deviceInfo.embeddingChainTile
        try launch("embedding_chain", program: .embedding, defines: ["CHAIN_TILE": "\(tile)"],
                   global: [roundUp(count, tile)], local: [tile], [.view(chain), .view(tokens), .int(count)])
        let local = [min(64, elementThreads), 1]
        try launch("embedding_backward", program: .embedding, defines: ["CHAIN_TILE": "\(tile)"],
                   global: [roundUp(dim, local[0]), count], local: local, [
                       .view(dtable), .view(dout), .view(tokens), .view(chain), .int(count), .int(dim),
                       .int(dtable.count / dim),
                   ])
    }
}
