// Token embedding lookup and its deterministic backward on the BLAS backend.
// Forward copies rows in parallel. Backward is split over embedding columns: each thread owns a
// column range of every dtable row and walks the tokens in increasing i, so each sum is taken in
// the documented order without float atomics, whatever the thread count.

import Compute

extension BLASBackend {
    public func embeddingForward(out: BufferView, table: BufferView, tokens: BufferView,
                                 count: Int, dim: Int) throws {
        let op = "embeddingForward"
        try Check.positive(op, ["count": count, "dim": dim])
        let po = try floats(op, "out", out), ptable = try floats(op, "table", table)
        let ptokens = try int32s(op, "tokens", tokens)
        try Check.count(op, "tokens", tokens, count)
        try Check.count(op, "out", out, count * dim)
        try validateTokens(op, table: table, dim: dim, tokens: ptokens, count: count)
        Profiler.measure(profiler, op, shape: "N=\(count) C=\(dim)", bytes: 8.0 * Double(count * dim)) {
            parallelFor(count, grain: rowGrain(dim)) { range in
                for i in range {
                    (po + i * dim).update(from: ptable + Int(ptokens[i]) * dim, count: dim)
                }
            }
        }
    }

    public func embeddingBackward(dtable: BufferView, dout: BufferView, tokens: BufferView,
                                  count: Int, dim: Int) throws {
        let op = "embeddingBackward"
        try Check.positive(op, ["count": count, "dim": dim])
        let pd = try floats(op, "dtable", dtable), pout = try floats(op, "dout", dout)
        let ptokens = try int32s(op, "tokens", tokens)
        try Check.count(op, "tokens", tokens, count)
        try Check.count(op, "dout", dout, count * dim)
        try validateTokens(op, table: dtable, dim: dim, tokens: ptokens, count: count)
        Profiler.measure(profiler, op, shape: "N=\(count) C=\(dim)", flops: Double(count * dim),
                         bytes: 12.0 * Double(count * dim)) {
            // Column chunks in whole SIMD vectors, so no two threads touch the same vector.
            let vectors = (dim + 7) / 8
            parallelFor(vectors, grain: max(1, BLASBackend.elementGrain / (8 * count))) { range in
                let start = range.lowerBound * 8
                let end = min(range.upperBound * 8, dim)
                for i in 0..<count {
                    let target = pd + Int(ptokens[i]) * dim
                    let source = pout + i * dim
                    var j = start
                    while j + 8 <= end {
                        VectorMath.store(VectorMath.load(target + j) + VectorMath.load(source + j), target + j)
                        j += 8
                    }
                    while j < end {
                        target[j] += source[j]
                        j += 1
                    }
                }
            }
        }
    }

    /// Checks that the table is V×dim and every token id lies in 0..<V, before anything is written.
    private func validateTokens(_ op: String, table: BufferView, dim: Int,
                                tokens: UnsafeMutablePointer<Int32>, count: Int) throws {
        guard table.count % dim == 0, table.count > 0 else {
            throw BackendError.shapeMismatch(op: op, expected: "table of V×\(dim) elements",
                                             got: "\(table.count)")
        }
        let vocabulary = table.count / dim
        for i in 0..<count where tokens[i] < 0 || Int(tokens[i]) >= vocabulary {
            throw BackendError.invalidArgument(
                op: op, reason: "token \(tokens[i]) at position \(i) is outside the vocabulary 0..<\(vocabulary)")
        }
    }
}
