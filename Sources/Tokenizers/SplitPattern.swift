// Which pattern splits text into pieces before byte-level BPE merges them: GPT-2's (the ByteLevel
// pre-tokenizer's own regex), Llama 3's (a Split pre-tokenizer before a regex-free ByteLevel), or
// GPT-2's after a Digits pre-tokenizer (SmolLM: each digit, or each run of digits, a piece of its
// own). tokenizer.json names a Split pattern as regex text; only these exact texts are recognised,
// each implemented by hand (PreTokenizer.swift, Llama3PreTokenizer.swift).

import Compute

/// The pattern byte-level BPE splits text with before merging.
public enum SplitPattern: String, Equatable, Sendable {
    /// GPT-2's: contractions, then runs of letters, digits or punctuation (each after an optional space), whitespace.
    case gpt2
    /// Llama 3's: contractions in any case, digits by three, whitespace up to its last line break.
    case llama3
    /// Digits(individual_digits: true), then GPT-2's pattern between the digits.
    case gpt2IndividualDigits
    /// Digits(individual_digits: false): runs of digits, then GPT-2's pattern between them.
    case gpt2DigitRuns

    /// The regex a Split pre-tokenizer spells this pattern with, if it is one.
    public var regex: String? {
        switch self {
        case .gpt2: return #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        case .llama3:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        case .gpt2IndividualDigits, .gpt2DigitRuns: return nil
        }
    }

    /// The pattern whose regex text is exactly `regex`, if we implement it.
    public init?(regex: String) {
        guard let pattern = [SplitPattern.gpt2, .llama3].first(where: { $0.regex == regex }) else { return nil }
        self = pattern
    }

    /// The tokenizer.json pre_tokenizer that splits this way.
    func preTokenizerJSON(addPrefixSpace: Bool) -> String {
        let byteLevel = { (regex: Bool) in
            "{\"type\": \"ByteLevel\", \"add_prefix_space\": \(addPrefixSpace), \"trim_offsets\": true, \"use_regex\": \(regex)}"
        }
        switch self {
        case .gpt2: return byteLevel(true)
        case .llama3:
            return "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": "
                + jsonQuoted(regex!) + "}, \"behavior\": \"Isolated\", \"invert\": false}, " + byteLevel(false) + "]}"
        case .gpt2IndividualDigits, .gpt2DigitRuns:
            return "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Digits\", \"individual_digits\": "
                + "\(self == .gpt2IndividualDigits)}, " + byteLevel(true) + "]}"
        }
    }

    /// Calls `body` for each piece of `bytes` that ends at or before `limit` (bytes.count: the text
    /// is complete), stopping at the first that does not; returns where that piece starts.
    @inline(__always)
    func forEachPiece(in bytes: UnsafeBufferPointer<UInt8>, endingBy limit: Int,
                      _ body: (Range<Int>) throws -> Void) rethrows -> Int {
        switch self {
        case .gpt2: return try PreTokenizer.forEachPiece(in: bytes, endingBy: limit, body)
        case .llama3: return try Llama3PreTokenizer.forEachPiece(in: bytes, endingBy: limit, body)
        case .gpt2IndividualDigits, .gpt2DigitRuns: return try forEachPieceAroundDigits(in: bytes, endingBy: limit, body)
        }
    }

    /// Digits split off first (each one, or each run), GPT-2's pattern on the text between them,
    /// which ends where a digit begins as if the text ended there.
    private func forEachPieceAroundDigits(in bytes: UnsafeBufferPointer<UInt8>, endingBy limit: Int,
                                          _ body: (Range<Int>) throws -> Void) rethrows -> Int {
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, case let (kind, length) = PreTokenizer.classify(bytes, end), kind != .number { end += length }
            if end > start {
                let run = UnsafeBufferPointer(rebasing: bytes[start ..< end])
                let runLimit = end < bytes.count || limit >= bytes.count ? run.count : max(0, limit - start)
                let consumed = try PreTokenizer.forEachPiece(in: run, endingBy: runLimit) { try body($0.lowerBound + start ..< $0.upperBound + start) }
                if consumed < run.count { return start + consumed }
                start = end
            }
            guard start < bytes.count else { break }
            var digitsEnd = start + PreTokenizer.classify(bytes, start).1
            while self == .gpt2DigitRuns, digitsEnd < bytes.count, case let (kind, length) = PreTokenizer.classify(bytes, digitsEnd),
                  kind == .number { digitsEnd += length }
            if digitsEnd > limit { return start }
            try body(start ..< digitsEnd)
            start = digitsEnd
        }
        return bytes.count
    }

    /// The pieces of `text`, as strings.
    public func pieces(of text: String) -> [String] {
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
