// Finds a tokenizer's added tokens (<s>, </s>, <|eot_id|>, ...) in raw text before anything else
// runs, as the `tokenizers` library does: leftmost match first, the longest token on a tie, never
// split by the pre-tokenizer or the merges. Matching is on UTF-8 bytes, so canonically equivalent
// spellings of a token (which Swift's String comparison would equate) stay distinct.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct AddedTokenMatcher: Sendable {
    /// Token contents as UTF-8 with their ids, longest first.
    let tokens: [(bytes: [UInt8], id: Int32)]
    /// startsWith[b]: some token's first byte is b.
    private let startsWith: [Bool]

    init(_ tokens: [(content: String, id: Int32)]) {
        self.tokens = tokens.map { (Array($0.content.utf8), $0.id) }.filter { !$0.0.isEmpty }
            .sorted { $0.0.count > $1.0.count }
        var starts = [Bool](repeating: false, count: 256)
        for token in self.tokens { starts[Int(token.bytes[0])] = true }
        startsWith = starts
    }

    /// The longest token's length in bytes (0 without tokens).
    var longest: Int { tokens.first?.bytes.count ?? 0 }

    /// The first token at or after `start`: where it begins, its id and byte length.
    func next(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (start: Int, id: Int32, length: Int)? {
        guard !tokens.isEmpty else { return nil }
        var index = start
        while index < bytes.count {
            if startsWith[Int(bytes[index])] {
                for token in tokens where index + token.bytes.count <= bytes.count {
                    let matches = token.bytes.withUnsafeBufferPointer {
                        memcmp($0.baseAddress!, bytes.baseAddress! + index, $0.count) == 0
                    }
                    if matches { return (index, token.id, token.bytes.count) }
                }
            }
            index += 1
        }
        return nil
    }
}
