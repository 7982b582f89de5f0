// The embedding contract: token lookup and its deterministic backward.
// Profile record: "N=COUNT C=DIM"; FLOPs 0 forward (a gather), N·C backward (the adds); bytes
// 4·(N tokens + N·C read + N·C written), plus N·C more backward (the rows of dtable are read too).

/// The embedding family's requirements: token lookup and its deterministic scatter-add backward.
/// A backend implements these; callers use the checked entry points below.
public protocol BackendEmbedding: AnyObject {
    /// `embeddingForward(out:table:tokens:count:dim:)` after its checks (tokens in range where the
    /// host can read them).
    func uncheckedEmbeddingForward(out: BufferView, table: BufferView, tokens: BufferView,
                                   count: Int, dim: Int) throws
    /// `embeddingBackward(dtable:dout:tokens:count:dim:)` after its checks.
    func uncheckedEmbeddingBackward(dtable: BufferView, dout: BufferView, tokens: BufferView,
                                    count: Int, dim: Int) throws
}

extension Backend {
    /// out[i, :] = table[tokens[i], :] for N tokens; table is V×C, out N×C. OVERWRITES.
    /// A token outside 0..<V throws `invalidArgument` where the backend holds tokens in host memory
    /// (`hostInt32s`, the CPU backends); on a GPU the model validates tokens before uploading them.
    public func embeddingForward(out: BufferView, table: BufferView, tokens: BufferView,
                                 count: Int, dim: Int) throws {
        let check = try OpCheck(.embeddingForward, on: self)
        try check.embedding(rows: ("out", out), table: ("table", table), tokens: tokens, count: count, dim: dim)
        try check.separate(("out", out), from: [("table", table), ("tokens", tokens)])
        let rows = Double(count) * Double(dim)
        try check.run(check.record("N=\(count) C=\(dim)", bytes: 4 * (Double(count) + 2 * rows))) {
            try uncheckedEmbeddingForward(out: out, table: table, tokens: tokens, count: count, dim: dim)
        }
    }

    /// dtable[tokens[i], :] += dout[i, :]. ACCUMULATES, deterministically (no float atomics:
    /// the sum for each row of dtable is taken in increasing i). Tokens are checked as in the forward.
    public func embeddingBackward(dtable: BufferView, dout: BufferView, tokens: BufferView,
                                  count: Int, dim: Int) throws {
        let check = try OpCheck(.embeddingBackward, on: self)
        try check.embedding(rows: ("dout", dout), table: ("dtable", dtable), tokens: tokens, count: count, dim: dim)
        try check.separate(("dtable", dtable), from: [("dout", dout), ("tokens", tokens)])
        let rows = Double(count) * Double(dim)
        try check.run(check.record("N=\(count) C=\(dim)", flops: rows, bytes: 4 * (Double(count) + 3 * rows))) {
            try uncheckedEmbeddingBackward(dtable: dtable, dout: dout, tokens: tokens, count: count, dim: dim)
        }
    }
}

extension OpCheck {
    /// Shared by both directions: N×C rows, a V×C table, N int32 tokens each in 0..<V.
    fileprivate func embedding(rows: NamedView, table: NamedView, tokens: BufferView, count: Int, dim: Int) throws {
        try positive(["count": count, "dim": dim])
        try floats([rows.name: rows.view, table.name: table.view])
        try int32s(["tokens": tokens])
        try self.count("tokens", tokens, count)
        try self.count(rows.name, rows.view, count * dim)
        guard table.view.count % dim == 0, table.view.count > 0 else {
            throw BackendError.shapeMismatch(op: op.rawValue, expected: "\(table.name) of V×\(dim) elements",
                                             got: "\(table.view.count)")
        }
        let vocabulary = table.view.count / dim
        try values("token", tokens, in: 0..<Int32(clamping: vocabulary), describedAs: "0..<\(vocabulary)")
    }
}

extension ForwardingBackend {
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedEmbeddingForward(out: BufferView, table: BufferView, tokens: BufferView,
                                          count: Int, dim: Int) throws {
        try forwardee.uncheckedEmbeddingForward(out: out, table: table, tokens: tokens, count: count, dim: dim)
    }
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedEmbeddingBackward(dtable: BufferView, dout: BufferView, tokens: BufferView,
                                           count: Int, dim: Int) throws {
        try forwardee.uncheckedEmbeddingBackward(dtable: dtable, dout: dout, tokens: tokens, count: count, dim: dim)
    }
}
