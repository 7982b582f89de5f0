// GPT-2's pre-tokenisation, hand-written: splits UTF-8 text into the pieces the regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// would find, scanning bytes once (an ASCII table for the common case, Unicode properties for the
// rest). BPE merges and the word tokenizer's vocabulary both work on these pieces.
//
// The scanner is stateless between pieces: a piece depends only on where it starts and on at most
// three characters after it ends. That makes streaming exact: `forEachPiece(isFinal: false)` stops
// before any piece within `streamingMargin` bytes of the end, and the caller rescans from there once
// more bytes have arrived. Bytes that are not valid UTF-8 count as punctuation ("other").

/// GPT-2's split of text into pieces, which BPE merges never cross.
public enum PreTokenizer {
    /// The character classes the pattern distinguishes.
    enum CharacterClass: UInt8 { case letter, number, whitespace, other }

    /// Bytes a piece must end before the end of a non-final chunk: three lookahead characters of up
    /// to four bytes each, plus one for the character being classified.
    public static let streamingMargin = 16

    static let asciiClasses: [CharacterClass] = (0..<128).map { byte -> CharacterClass in
        switch UInt8(byte) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): return .letter
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        case 9...13, 32: return .whitespace
        default: return .other
        }
    }

    /// The class of a non-ASCII scalar: \p{L} is the letter categories, \p{N} the number ones, \s the
    /// White_Space property (what the Rust `tokenizers` regex engine uses).
    static func characterClass(of scalar: Unicode.Scalar) -> CharacterClass {
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// Class and byte length of the character starting at `index`.
    @inline(__always)
    static func classify(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> (CharacterClass, Int) {
        let lead = bytes[index]
        if lead < 0x80 { return (asciiClasses[Int(lead)], 1) }
        return classifyMultibyte(bytes, index)
    }

    static func classifyMultibyte(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> (CharacterClass, Int) {
        let lead = bytes[index]
        let length: Int, initial: UInt32, minimum: UInt32
        switch lead {
        case 0xC2...0xDF: (length, initial, minimum) = (2, UInt32(lead & 0x1F), 0x80)
        case 0xE0...0xEF: (length, initial, minimum) = (3, UInt32(lead & 0x0F), 0x800)
        case 0xF0...0xF4: (length, initial, minimum) = (4, UInt32(lead & 0x07), 0x10000)
        default: return (.other, 1)
        }
        guard index + length <= bytes.count else { return (.other, 1) }
        var value = initial
        for offset in 1..<length {
            let byte = bytes[index + offset]
            guard byte & 0xC0 == 0x80 else { return (.other, 1) }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        guard value >= minimum, let scalar = Unicode.Scalar(value) else { return (.other, 1) }
        return (characterClass(of: scalar), length)
    }

    /// Calls `body` with the byte range of each piece of `bytes`, in order, and returns how many
    /// bytes were consumed: all of them when `isFinal`, otherwise up to the start of the first piece
    /// that might change once more text follows.
    @discardableResult
    public static func forEachPiece(in bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool,
                                    _ body: (Range<Int>) throws -> Void) rethrows -> Int {
        try forEachPiece(in: bytes, endingBy: isFinal ? bytes.count : bytes.count - streamingMargin, body)
    }

    /// Calls `body` for each piece of `bytes` that ends at or before `limit`, stopping at the first
    /// that does not; returns where that piece starts (or bytes.count).
    @inline(__always)
    public static func forEachPiece(in bytes: UnsafeBufferPointer<UInt8>, endingBy limit: Int,
                                    _ body: (Range<Int>) throws -> Void) rethrows -> Int {
        var start = 0
        while start < bytes.count {
            let end = pieceEnd(bytes, from: start)
            if end > limit { return start }
            try body(start ..< end)
            start = end
        }
        return bytes.count
    }

    /// Where the piece starting at `start` ends, following the pattern's alternatives in order.
    static func pieceEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let count = bytes.count
        let first = bytes[start]
        // 's 't 're 've 'm 'll 'd (case-sensitive, as in GPT-2).
        if first == UInt8(ascii: "'") && start + 1 < count {
            let second = bytes[start + 1]
            switch second {
            case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"): return start + 2
            case UInt8(ascii: "r"), UInt8(ascii: "v"):
                if start + 2 < count && bytes[start + 2] == UInt8(ascii: "e") { return start + 3 }
            case UInt8(ascii: "l"):
                if start + 2 < count && bytes[start + 2] == UInt8(ascii: "l") { return start + 3 }
            default: break
            }
        }
        var (kind, length) = classify(bytes, start)
        var runStart = start
        // An optional single space before a letter, number or punctuation run.
        if first == UInt8(ascii: " ") && start + 1 < count {
            let (next, nextLength) = classify(bytes, start + 1)
            if next != .whitespace {
                kind = next
                length = nextLength
                runStart = start + 1
            }
        }
        var end = runStart + length
        if kind != .whitespace {
            while end < count {
                let (next, nextLength) = classify(bytes, end)
                guard next == kind else { break }
                end += nextLength
            }
            return end
        }
        // \s+(?!\S): a whitespace run that is followed by a non-space gives up its last character
        // (which then starts the next piece, e.g. " " + "word"); a single one stays (\s+).
        var lastCharacterStart = start
        while end < count {
            let (next, nextLength) = classify(bytes, end)
            guard next == .whitespace else { return lastCharacterStart > start ? lastCharacterStart : end }
            lastCharacterStart = end
            end += nextLength
        }
        return end
    }

    /// The pieces of `text`, as strings (for tests and small inputs).
    public static func pieces(of text: String) -> [String] {
        var copy = text
        return copy.withUTF8 { bytes in
            var result: [String] = []
            forEachPiece(in: bytes, isFinal: true) { range in
                result.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
            }
            return result
        }
    }
}
