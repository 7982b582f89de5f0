// BPE merging of one symbol sequence the way the `tokenizers` library does it: the pair with the
// lowest merge rank is joined first, the leftmost of equal pairs first, until no adjacent pair has
// a merge. Long sequences use a priority queue, O(n log n), so SentencePiece-style text whose
// "word" is a whole line (no pre-tokenizer splits it) stays fast; short ones a plain rescan.

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

    /// `symbols` with every applicable merge applied: by rescanning for short words (no
    /// allocation; most words are short), with the queue for long ones. Both give the same result.
    func apply(to symbols: [Int32]) -> [Int32] {
        symbols.count <= 32 ? applyByScanning(symbols) : applyWithQueue(symbols)
    }

    /// Finds the lowest-ranked pair, joins all its occurrences left to right, and repeats: the
    /// same order as the queue's, since equal pairs share a rank and the leftmost goes first.
    func applyByScanning(_ input: [Int32]) -> [Int32] {
        var symbols = input
        while symbols.count > 1 {
            var best: (left: Int32, right: Int32, merge: Merge)?
            for index in 0 ..< symbols.count - 1 {
                if let merge = merge(symbols[index], symbols[index + 1]), merge.rank < best?.merge.rank ?? .max {
                    best = (symbols[index], symbols[index + 1], merge)
                }
            }
            guard let best else { break }
            var write = 0, read = 0
            while read < symbols.count {
                if read + 1 < symbols.count && symbols[read] == best.left && symbols[read + 1] == best.right {
                    symbols[write] = best.merge.result
                    read += 2
                } else {
                    symbols[write] = symbols[read]
                    read += 1
                }
                write += 1
            }
            symbols.removeLast(symbols.count - write)
        }
        return symbols
    }

    func applyWithQueue(_ symbols: [Int32]) -> [Int32] {
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
