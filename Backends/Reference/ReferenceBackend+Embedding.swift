// Token embedding lookup and its deterministic backward for the reference backend.
// The backward groups positions by token (a stable counting sort, so each group is in increasing i),
// then sums each token's rows in Double in parallel over tokens: one owner per dtable row, no atomics.

import Compute
import HostMemory

extension ReferenceBackend {
    /// Copies row tokens[i] of `table` to row i of `out`.
    public func uncheckedEmbeddingForward(out: BufferView, table: BufferView, tokens: BufferView,
                                          count: Int, dim: Int) throws {
        let ids = tokens.hostInt32s, rows = out.hostFloats, weights = table.hostFloats
        parallelFor(count, grain: rowGrain(dim)) { range in
            for i in range {
                (rows + i * dim).update(from: weights + Int(ids[i]) * dim, count: dim)
            }
        }
    }

    /// Groups positions by token, then sums each token's dout rows in increasing i in Double: one
    /// thread per dtable row, so the result is deterministic.
    public func uncheckedEmbeddingBackward(dtable: BufferView, dout: BufferView, tokens: BufferView,
                                           count: Int, dim: Int) throws {
        let ids = tokens.hostInt32s, gradient = dout.hostFloats, result = dtable.hostFloats
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
