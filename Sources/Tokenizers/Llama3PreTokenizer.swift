// Llama 3's pre-tokenisation, hand-written: splits UTF-8 text into the pieces the regex
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// would find (the `Split` pre-tokenizer of Llama 3's tokenizer.json), in one scan with the same
// character classes as GPT-2's pattern (PreTokenizer.swift). No regex engine is involved: Swift's
// Regex is missing or slow on Linux, and the pattern's semantics fit in a page.
//
// What differs from GPT-2: contractions match in any case ('S, 'Re, and 'ſ: the long s folds to s
// in the library's regex engine, the one non-ASCII letter that folds onto a contraction); a letter run may take one leading character that is
// not a letter, digit, CR or LF (" word", "!word", "\tword"); digits come in runs of at most
// three; punctuation takes the CR/LF run after it; and a whitespace run holding CR or LF ends right
// after its last CR or LF. That last rule looks arbitrarily far ahead, so a non-final chunk never
// decides a whitespace run that reaches its end.

/// Llama 3's split pattern, implemented by hand (see the file comment for its rules).
public enum Llama3PreTokenizer {
    typealias CharacterClass = PreTokenizer.CharacterClass

    /// Calls `body` for each piece of `bytes` that ends at or before `limit`, stopping at the first
    /// that does not; returns where that piece starts (or bytes.count). `limit == bytes.count`
    /// means the text is complete.
    @inline(__always)
    public static func forEachPiece(in bytes: UnsafeBufferPointer<UInt8>, endingBy limit: Int,
                                    _ body: (Range<Int>) throws -> Void) rethrows -> Int {
        let isFinal = limit >= bytes.count
        var start = 0
        while start < bytes.count {
            let end = pieceEnd(bytes, from: start, isFinal: isFinal)
            if end > limit { return start }
            try body(start ..< end)
            start = end
        }
        return bytes.count
    }

    /// Where the piece starting at `start` ends, trying the pattern's alternatives in order.
    static func pieceEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, isFinal: Bool) -> Int {
        if bytes[start] == UInt8(ascii: "'"), let end = contractionEnd(bytes, afterApostrophe: start + 1) {
            return end
        }
        let (kind, length) = PreTokenizer.classify(bytes, start)
        let next = start + length
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if kind == .letter { return runEnd(bytes, from: next, of: .letter) }
        if kind != .number && !isLineBreak(bytes[start]) && next < bytes.count
            && PreTokenizer.classify(bytes, next).0 == .letter
        {
            return runEnd(bytes, from: next, of: .letter)
        }
        // \p{N}{1,3}
        if kind == .number { return numberEnd(bytes, from: start) }
        // " ?[^\s\p{L}\p{N}]+[\r\n]*"
        var otherStart: Int?
        if kind == .other {
            otherStart = start
        } else if bytes[start] == UInt8(ascii: " ") && next < bytes.count && PreTokenizer.classify(bytes, next).0 == .other {
            otherStart = next
        }
        if let otherStart {
            var end = runEnd(bytes, from: otherStart, of: .other)
            while end < bytes.count && isLineBreak(bytes[end]) { end += 1 }
            return end
        }
        return whitespaceEnd(bytes, from: start, isFinal: isFinal)
    }

    /// 's 't 're 've 'm 'll 'd in any case: the end of the match, or nil.
    static func contractionEnd(_ bytes: UnsafeBufferPointer<UInt8>, afterApostrophe index: Int) -> Int? {
        if index + 1 < bytes.count && bytes[index] == 0xC5 && bytes[index + 1] == 0xBF { return index + 2 }  // ſ
        func lower(_ offset: Int) -> UInt8? {
            guard index + offset < bytes.count else { return nil }
            let byte = bytes[index + offset]
            return (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
        }
        switch lower(0) {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"): return index + 1
        case UInt8(ascii: "r"), UInt8(ascii: "v"): return lower(1) == UInt8(ascii: "e") ? index + 2 : nil
        case UInt8(ascii: "l"): return lower(1) == UInt8(ascii: "l") ? index + 2 : nil
        default: return nil
        }
    }

    @inline(__always)
    static func isLineBreak(_ byte: UInt8) -> Bool { byte == 0x0A || byte == 0x0D }

    /// The end of the run of `kind` characters starting at `index`.
    static func runEnd(_ bytes: UnsafeBufferPointer<UInt8>, from index: Int, of kind: CharacterClass) -> Int {
        var end = index
        while end < bytes.count {
            let (next, length) = PreTokenizer.classify(bytes, end)
            guard next == kind else { break }
            end += length
        }
        return end
    }

    /// At most three number characters from `start` (which is one).
    static func numberEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var end = start
        for _ in 0..<3 {
            guard end < bytes.count else { break }
            let (next, length) = PreTokenizer.classify(bytes, end)
            guard next == .number else { break }
            end += length
        }
        return end
    }

    /// The whitespace alternatives: \s*[\r\n]+ (up to the run's last CR or LF), else \s+(?!\S) (the
    /// run less its last character when a non-space follows), else \s+ (one character).
    static func whitespaceEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, isFinal: Bool) -> Int {
        var end = start
        var lastCharacterStart = start
        var afterLastLineBreak: Int?
        while end < bytes.count {
            let (next, length) = PreTokenizer.classify(bytes, end)
            guard next == .whitespace else { break }
            if isLineBreak(bytes[end]) { afterLastLineBreak = end + 1 }
            lastCharacterStart = end
            end += length
        }
        // A run reaching the end of a partial text may hold more CR/LF in the bytes still to come.
        if end == bytes.count { return isFinal ? afterLastLineBreak ?? end : end }
        if let afterLastLineBreak { return afterLastLineBreak }
        return lastCharacterStart > start ? lastCharacterStart : end
    }

    /// The pieces of `text`, as strings (for tests and small inputs).
    public static func pieces(of text: String) -> [String] {
        var copy = text
        return copy.withUTF8 { bytes in
            var result: [String] = []
            _ = forEachPiece(in: bytes, endingBy: bytes.count) { range in
                result.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
            }
            return result
        }
    }
}
