// Learns byte-level BPE merges from piece counts (PieceCounts), the incremental way: count every
// adjacent token pair once, weighted by how often its piece occurs; then repeatedly take the most
// frequent pair from a max-heap, rewrite only the pieces that contain it, and adjust the counts of
// the pairs around each rewrite. Heap entries go stale as counts fall; a popped entry whose count is
// out of date is pushed back with the current count (lazy deletion), so each merge costs time in
// proportion to the pieces it touches, not to the corpus.
//
// Ties between equally frequent pairs go to the smaller (left id, right id), so training is
// deterministic. Ids: 0...255 are the single bytes (id = byte value), then one id per new merged
// token in merge order, then the special tokens.

/// Learning byte-level BPE merges from a corpus.
public enum BPETrainer {
    /// Trains on the pieces of `text` (counted on all CPUs).
    public static func train(text: String, vocabularySize: Int,
                             specialTokens: [String] = [BPETokenizer.endOfText]) throws -> BPETokenizer {
        try train(counts: PieceCounts.count(text), vocabularySize: vocabularySize, specialTokens: specialTokens)
    }

    /// Learns merges until the vocabulary (256 bytes + merged tokens + `specialTokens`) reaches
    /// `vocabularySize`, or no pair is left to merge.
    public static func train(counts: PieceCounts, vocabularySize: Int,
                             specialTokens: [String] = [BPETokenizer.endOfText]) throws -> BPETokenizer {
        let minimum = 256 + specialTokens.count
        guard vocabularySize >= minimum else {
            throw TokenizerError.invalidVocabularySize(
                requested: vocabularySize, minimum: minimum,
                reason: "256 byte tokens\(specialTokens.isEmpty ? "" : " + \(specialTokens.count) special")")
        }
        guard counts.distinctCount > 0 else { throw TokenizerError.emptyCorpus }
        var state = State(counts: counts)
        var tokenBytes = (0..<256).map { [UInt8($0)] }
        // The table grows as merges come: a vocabulary asked for (up to 2^31) may be far more than
        // the corpus can give, so it is not the first allocation's size.
        var vocabulary = ByteStringTable(capacity: min(vocabularySize, 1 << 16))
        for bytes in tokenBytes { _ = vocabulary.insert(bytes) }
        var merges: [BPETokenizer.Merge] = []
        let target = vocabularySize - specialTokens.count
        while tokenBytes.count < target, let (left, right) = state.popBestPair() {
            let joined = tokenBytes[Int(left)] + tokenBytes[Int(right)]
            let (entry, inserted) = vocabulary.insert(joined)
            if inserted { tokenBytes.append(joined) }
            // Vocabulary entries are inserted in id order, so the entry number is the id.
            state.merge(left, right, into: Int32(entry), mergeIndex: merges.count)
            merges.append(BPETokenizer.Merge(left, right))
        }
        var specials: [BPETokenizer.SpecialToken] = []
        for content in specialTokens {
            specials.append(BPETokenizer.SpecialToken(content: content, id: Int32(tokenBytes.count)))
            tokenBytes.append(Array(content.utf8))
        }
        return try BPETokenizer(tokenBytes: tokenBytes, merges: merges, specialTokens: specials)
    }

    /// Pieces as token sequences in one arena, pair counts and the pieces each pair occurs in.
    struct State {
        var symbols: [Int32] = []
        var pieceStart: [Int] = []
        var pieceLength: [Int] = []
        var pieceCount: [Int] = []
        /// Pair key (left << 32 | right) -> dense pair index into the arrays below.
        var pairIndex: [UInt64: Int32] = [:]
        var pairKeys: [UInt64] = []
        var pairCounts: [Int] = []
        /// Pieces that contained the pair when it was noted (may hold pieces that no longer do).
        var pairPieces: [[Int32]] = []
        var heap = PairHeap()
        /// The merge during which each piece was last rewritten (a piece is visited once per merge).
        var lastVisit: [Int]

        init(counts: PieceCounts) {
            let entries = counts.entries
            lastVisit = [Int](repeating: -1, count: entries.count)
            for (index, entry) in entries.enumerated() {
                pieceStart.append(symbols.count)
                pieceLength.append(entry.bytes.count)
                pieceCount.append(entry.count)
                for byte in entry.bytes { symbols.append(Int32(byte)) }
                let start = pieceStart[index]
                for position in start ..< start + entry.bytes.count - 1 {
                    let pair = pairIndex(symbols[position], symbols[position + 1])
                    pairCounts[pair] += entry.count
                    note(pair, piece: index)
                }
            }
            for pair in pairCounts.indices where pairCounts[pair] > 0 {
                heap.push(count: pairCounts[pair], key: pairKeys[pair])
            }
        }

        mutating func pairIndex(_ left: Int32, _ right: Int32) -> Int {
            let key = BPETokenizer.pairKey(left, right)
            if let index = pairIndex[key] { return Int(index) }
            let index = pairKeys.count
            pairIndex[key] = Int32(index)
            pairKeys.append(key)
            pairCounts.append(0)
            pairPieces.append([])
            return index
        }

        @inline(__always)
        mutating func note(_ pair: Int, piece: Int) {
            if pairPieces[pair].last != Int32(piece) { pairPieces[pair].append(Int32(piece)) }
        }

        /// The most frequent pair with a current count above zero, or nil when none is left.
        mutating func popBestPair() -> (Int32, Int32)? {
            while let top = heap.pop() {
                guard let index = pairIndex[top.key] else { continue }
                let current = pairCounts[Int(index)]
                if current == top.count && current > 0 {
                    return (Int32(truncatingIfNeeded: top.key >> 32), Int32(truncatingIfNeeded: top.key & 0xFFFF_FFFF))
                }
                if current > 0 && current < top.count { heap.push(count: current, key: top.key) }
            }
            return nil
        }

        /// Rewrites every piece containing (left, right) with `joined`, adjusting neighbouring pairs.
        mutating func merge(_ left: Int32, _ right: Int32, into joined: Int32, mergeIndex: Int) {
            let mergedPair = pairIndex(left, right)
            let pieces = pairPieces[mergedPair]
            pairPieces[mergedPair] = []
            var grown: Set<Int> = []
            for piece32 in pieces {
                let piece = Int(piece32)
                if lastVisit[piece] == mergeIndex { continue }
                lastVisit[piece] = mergeIndex
                let count = pieceCount[piece], start = pieceStart[piece], end = start + pieceLength[piece]
                var write = start, read = start
                while read < end {
                    if read + 1 < end && symbols[read] == left && symbols[read + 1] == right {
                        if write > start {
                            let previous = symbols[write - 1]
                            pairCounts[pairIndex(previous, left)] -= count
                            let added = pairIndex(previous, joined)
                            pairCounts[added] += count
                            note(added, piece: piece)
                            grown.insert(added)
                        }
                        if read + 2 < end {
                            let next = symbols[read + 2]
                            pairCounts[pairIndex(right, next)] -= count
                            let added = pairIndex(joined, next)
                            pairCounts[added] += count
                            note(added, piece: piece)
                            grown.insert(added)
                        }
                        pairCounts[mergedPair] -= count
                        symbols[write] = joined
                        read += 2
                    } else {
                        symbols[write] = symbols[read]
                        read += 1
                    }
                    write += 1
                }
                pieceLength[piece] = write - start
            }
            for pair in grown where pairCounts[pair] > 0 {
                heap.push(count: pairCounts[pair], key: pairKeys[pair])
            }
        }
    }
}

/// A binary max-heap of (count, pair key): larger count first, then the smaller key.
struct PairHeap {
    private var counts: [Int] = []
    private var keys: [UInt64] = []

    @inline(__always)
    private func above(_ a: Int, _ b: Int) -> Bool {
        counts[a] > counts[b] || (counts[a] == counts[b] && keys[a] < keys[b])
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        counts.swapAt(a, b)
        keys.swapAt(a, b)
    }

    mutating func push(count: Int, key: UInt64) {
        counts.append(count)
        keys.append(key)
        var child = counts.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard above(child, parent) else { break }
            swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (count: Int, key: UInt64)? {
        guard let top = counts.first else { return nil }
        let key = keys[0]
        swapAt(0, counts.count - 1)
        counts.removeLast()
        keys.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < counts.count && above(left, best) { best = left }
            if right < counts.count && above(right, best) { best = right }
            if best == parent { break }
            swapAt(parent, best)
            parent = best
        }
        return (top, key)
    }
}
