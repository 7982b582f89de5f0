// Token embedding lookup and its deterministic backward for the reference backend.
// The backward groups positions by token (a stable counting sort, so each group is in increasing i),
// then sums each token's rows in Double in parallel over tokens: one owner per dtable row, no atomics.

import Compute

extension ReferenceBackend {
    public func embeddingForward(out: BufferView, table: BufferView, tokens: BufferView,
                                 count: Int, dim: Int) throws {
        let op = "embeddingForward"
        try Profiler.measure(profiler, op, shape: "N=\(count) C=\(dim)", bytes: 8 * Double(count * dim)) {
            let ids = try checkedTokens(op, out: out, table: table, tokens: tokens, count: count, dim: dim)
            let rows = try floats(op, "out", out), weights = try floats(op, "table", table)
            parallelFor(count, grain: rowGrain(dim)) { range in
                for i in range {
                    (rows + i * dim).update(from: weights + Int(ids[i]) * dim, count: dim)
                }
            }
        }
    }

    public func embeddingBackward(dtable: BufferView, dout: BufferView, tokens: BufferView,
                                  count: Int, dim: Int) throws {
        let op = "embeddingBackward"
        try Profiler.measure(profiler, op, shape: "N=\(count) C=\(dim)", flops: Double(count * dim),
                             bytes: 8 * Double(count * dim)) {
            let ids = try checkedTokens(op, out: dout, table: dtable, tokens: tokens, count: count, dim: dim)
            let gradient = try floats(op, "dout", dout), result = try floats(op, "dtable", dtable)
            let vocabulary = dtable.count / dim

            // Stable counting sort of positions by token: positions[start[v] ..< start[v + 1]]
            // are the i with tokens[i] == v, in increasing i.
            var start = [Int](repeating: 0, count: vocabulary + 1)
            for i in 0..<count { start[Int(ids[i]) + 1] += 1 }
            for v in 0..<vocabulary { start[v + 1] += start[v] }
            var next = start
            var positions = [Int](repeating: 0, count: count)
            for i in 0..<count {
                let v = Int(ids[i])
                positions[next[v]] = i
                next[v] += 1
            }
            let used = (0..<vocabulary).filter { start[$0 + 1] > start[$0] }

            positions.withUnsafeBufferPointer { positions in
                parallelFor(used.count, grain: rowGrain(dim)) { range in
                    var sums = [Double](repeating: 0, count: dim)
                    for u in range {
                        let v = used[u]
                        for c in 0..<dim { sums[c] = 0 }
                        for slot in start[v]..<start[v + 1] {
                            let row = gradient + positions[slot] * dim
                            for c in 0..<dim { sums[c] += Double(row[c]) }
                        }
                        let target = result + v * dim
                        for c in 0..<dim { target[c] = Float(Double(target[c]) + sums[c]) }
                    }
                }
            }
        }
    }

    /// Checks the shapes shared by both directions (N×C rows, a V×C table, N int32 tokens) and that
    /// every token is in 0..<V; returns the tokens.
    private func checkedTokens(_ op: String, out: BufferView, table: BufferView, tokens: BufferView,
                               count: Int, dim: Int) throws -> UnsafeMutablePointer<Int32> {
        try Check.positive(op, ["count": count, "dim": dim])
        try Check.count(op, "rows", out, count * dim)
        try Check.count(op, "tokens", tokens, count)
        guard table.count % dim == 0, table.count > 0 else {
            throw BackendError.shapeMismatch(op: op, expected: "table of V×\(dim) elements", got: "\(table.count)")
        }
        let vocabulary = table.count / dim
        let ids = try int32s(op, "tokens", tokens)
        for i in 0..<count where ids[i] < 0 || Int(ids[i]) >= vocabulary {
            throw BackendError.invalidArgument(
                op: op, reason: "token \(ids[i]) at position \(i) is outside 0..<\(vocabulary)")
        }
        return ids
    }
}
