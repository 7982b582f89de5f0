// BPE merging of one symbol sequence with a priority queue, the way the `tokenizers` library does
// it: the pair with the lowest merge rank is joined first, the leftmost of equal pairs first,
// until no adjacent pair has a merge. O(n log n) in the number of symbols, so it also serves
// SentencePiece-style text whose "word" is a whole line (no pre-tokenizer splits it).

struct BPEMerges: Sendable {
    struct Merge: Sendable {
        var rank: Int32
        var result: Int32
    }

    /// (left << 32 | right) -> the merge that joins them.
    let table: [UInt64: Merge]

    init(_ table: [UInt64: Merge]) { self.table = table }

    @inline(__always)
    static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> Merge? { table[Self.key(left, right)] }

    /// `symbols` with every applicable merge applied.
    func apply(to symbols: [Int32]) -> [Int32] {
        guard symbols.count > 1 else { return symbols }
        var ids = symbols
        let count = ids.count
        var next = Array(1...count)          // count means none
        var previous = Array(-1 ..< count - 1)  // -1 means none
        var alive = [Bool](repeating: true, count: count)
        var queue = MinHeap()
        for position in 0 ..< count - 1 {
            if let merge = merge(ids[position], ids[position + 1]) { queue.push(rank: merge.rank, position: position) }
        }
        while let (rank, position) = queue.pop() {
            let right = next[position]
            guard alive[position], right < count,
                  let merge = merge(ids[position], ids[right]), merge.rank == rank else { continue }  // stale entry
            ids[position] = merge.result
            alive[right] = false
            next[position] = next[right]
            if next[right] < count { previous[next[right]] = position }
            if previous[position] >= 0, let left = self.merge(ids[previous[position]], ids[position]) {
                queue.push(rank: left.rank, position: previous[position])
            }
            if next[position] < count, let following = self.merge(ids[position], ids[next[position]]) {
                queue.push(rank: following.rank, position: position)
            }
        }
        return ids.indices.compactMap { alive[$0] ? ids[$0] : nil }
    }
}

/// A binary min-heap of (rank, position), ordered by rank, then position.
private struct MinHeap {
    private var keys: [UInt64] = []

    mutating func push(rank: Int32, position: Int) {
        keys.append(UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(position))
        var child = keys.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard keys[child] < keys[parent] else { break }
            keys.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (rank: Int32, position: Int)? {
        guard let top = keys.first else { return nil }
        let last = keys.removeLast()
        if !keys.isEmpty {
            keys[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < keys.count && keys[left] < keys[smallest] { smallest = left }
                if right < keys.count && keys[right] < keys[smallest] { smallest = right }
                guard smallest != parent else { break }
                keys.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return (Int32(bitPattern: UInt32(top >> 32)), Int(top & 0xFFFF_FFFF))
    }
}
