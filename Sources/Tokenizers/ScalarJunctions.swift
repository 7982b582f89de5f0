// Where BPE can never merge across: a merge joins a token ending in scalar a to one starting with
// scalar b, so a text position between a and b that no merge's (a, b) junction matches is never
// crossed, and the text on either side merges independently. SentencePiece-style text has no
// pre-tokenizer to cut it into words (a "word" runs from one "▁" to the next and keeps its commas
// and newlines); cutting at such positions makes pieces short and repetitive, so the encode cache
// serves most of them.

struct ScalarJunctions: Sendable {
    /// Junctions between two ASCII scalars, indexed a * 128 + b.
    private let ascii: [Bool]
    private let others: Set<UInt64>

    /// The junctions of `merges` over `tokens`; nil when a merge involves a byte-fallback or the
    /// unknown token, whose strings do not spell the text they stand for.
    init?(tokens: [String], merges: [(Int32, Int32)], opaque: Set<Int32>) {
        var ascii = [Bool](repeating: false, count: 128 * 128)
        var others = Set<UInt64>()
        for (left, right) in merges {
            guard !opaque.contains(left), !opaque.contains(right),
                  let a = tokens[Int(left)].unicodeScalars.last?.value, let b = tokens[Int(right)].unicodeScalars.first?.value
            else { return nil }
            if a < 128 && b < 128 { ascii[Int(a) * 128 + Int(b)] = true } else { others.insert(UInt64(a) << 32 | UInt64(b)) }
        }
        self.ascii = ascii
        self.others = others
    }

    @inline(__always)
    func canMerge(_ a: UInt32, _ b: UInt32) -> Bool {
        a < 128 && b < 128 ? ascii[Int(a) * 128 + Int(b)] : others.contains(UInt64(a) << 32 | UInt64(b))
    }

    /// Calls `body` with the runs of `text` (valid UTF-8) between positions no merge crosses.
    func forEachRun(in text: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) rethrows {
        var start = 0, index = 0
        var previous: UInt32?
        while index < text.count {
            let length = SentencePieceBPE.scalarLength(leading: text[index])
            var value = UInt32(text[index]) & (length == 1 ? 0x7F : length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
            for offset in 1 ..< length { value = value << 6 | UInt32(text[index + offset] & 0x3F) }
            if let previous, !canMerge(previous, value) {
                try body(UnsafeBufferPointer(rebasing: text[start ..< index]))
                start = index
            }
            previous = value
            index += length
        }
        if start < text.count { try body(UnsafeBufferPointer(rebasing: text[start...])) }
    }
}
