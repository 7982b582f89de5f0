// Token embedding (Kernels/embedding.cl): gather forward; deterministic backward through per-token
// occurrence chains (each row of dtable summed in increasing token index, no float atomics).

import Compute

extension OpenCLBackend {
    public func embeddingForward(out: BufferView, table: BufferView, tokens: BufferView,
                                 count: Int, dim: Int) throws {
        let op = "embeddingForward"
        try checkEmbedding(op, count: count, dim: dim, rows: ("out", out), table: table, tokens: tokens)
        let local = [min(64, elementThreads), 1]
        try launch("embedding_forward", program: "embedding", global: [roundUp(dim, local[0]), count], local: local,
                   [.view(out), .view(table), .view(tokens), .int(count), .int(dim), .int(table.count / dim)],
                   profile: ("N=\(count) C=\(dim)", 0, 8.0 * Double(count * dim)))
    }

    public func embeddingBackward(dtable: BufferView, dout: BufferView, tokens: BufferView,
                                  count: Int, dim: Int) throws {
        let op = "embeddingBackward"
        try checkEmbedding(op, count: count, dim: dim, rows: ("dout", dout), table: dtable, tokens: tokens)
        let chain = try scratch(2 * count, .int32)
        let tile = deviceInfo.embeddingChainTile
        try launch("embedding_chain", program: "embedding", defines: ["CHAIN_TILE": "\(tile)"],
                   global: [roundUp(count, tile)], local: [tile], [.view(chain), .view(tokens), .int(count)],
                   profile: ("N=\(count)", Double(count) * Double(count), 4.0 * Double(count)))
        let local = [min(64, elementThreads), 1]
        try launch("embedding_backward", program: "embedding", defines: ["CHAIN_TILE": "\(tile)"],
                   global: [roundUp(dim, local[0]), count], local: local, [
                       .view(dtable), .view(dout), .view(tokens), .view(chain), .int(count), .int(dim),
                       .int(dtable.count / dim),
                   ], profile: ("N=\(count) C=\(dim)", Double(count * dim), 12.0 * Double(count * dim)))
    }

    private func checkEmbedding(_ op: String, count: Int, dim: Int, rows: (String, BufferView), table: BufferView,
                                tokens: BufferView) throws {
        try Check.positive(op, ["count": count, "dim": dim])
        try Check.dtype(op, "tokens", tokens, .int32)
        try Check.count(op, "tokens", tokens, count)
        try Check.count(op, rows.0, rows.1, count * dim)
        guard table.count % dim == 0, table.count > 0 else {
            throw BackendError.shapeMismatch(op: op, expected: "table of V×\(dim) elements", got: "\(table.count)")
        }
    }
}
