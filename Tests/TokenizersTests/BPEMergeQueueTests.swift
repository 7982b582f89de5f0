// Both merge strategies (the priority queue for long words, the rescan for short ones) against the
// obvious quadratic merge: lowest rank first, leftmost first on a tie, until no pair
// merges. Random merge tables over a small alphabet, so chains and overlaps ("aaa") are common.

import Compute
import Testing
import TestSupport
@testable import Tokenizers

@Suite struct BPEMergeQueueTests {
    /// Repeatedly joins the leftmost occurrence of the lowest-ranked mergeable pair.
    static func naive(_ symbols: [Int32], _ merges: BPEMerges) -> [Int32] {
        var symbols = symbols
        while true {
            var best: (rank: Int32, index: Int)?
            for index in 0 ..< max(0, symbols.count - 1) {
                if let merge = merges.merge(symbols[index], symbols[index + 1]), merge.rank < best?.rank ?? .max {
                    best = (merge.rank, index)
                }
            }
            guard let best else { return symbols }
            symbols[best.index] = merges.merge(symbols[best.index], symbols[best.index + 1])!.result
            symbols.remove(at: best.index + 1)
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5])
    func equalsTheNaiveMerge(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        // Tokens 0..<4 are the alphabet; merge r makes token 4 + r from two earlier tokens.
        var table: [UInt64: BPEMerges.Merge] = [:]
        for rank in 0..<40 {
            let left = Int32(random.next() % UInt64(4 + rank)), right = Int32(random.next() % UInt64(4 + rank))
            if table[BPEMerges.key(left, right)] == nil {
                table[BPEMerges.key(left, right)] = BPEMerges.Merge(rank: Int32(rank), result: Int32(4 + rank))
            }
        }
        let merges = BPEMerges(table)
        for _ in 0..<200 {
            let symbols = (0 ..< Int(random.next() % 60)).map { _ in Int32(random.next() % 4) }
            let expected = Self.naive(symbols, merges)
            #expect(merges.applyWithQueue(symbols) == expected, "queue: \(symbols)")
            #expect(merges.applyByScanning(symbols) == expected, "scan: \(symbols)")
            #expect(merges.apply(to: symbols) == expected)
        }
    }
}
