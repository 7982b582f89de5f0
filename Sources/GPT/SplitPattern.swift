// Which pattern splits text into pieces before byte-level BPE merges them: GPT-2's (the ByteLevel
// pre-tokenizer's own regex) or Llama 3's (a Split pre-tokenizer before a regex-free ByteLevel).
// tokenizer.json names the pattern as regex text; only these exact texts are recognised, each
// implemented by hand (PreTokenizer.swift, Llama3PreTokenizer.swift).

public enum SplitPattern: String, Equatable, Sendable {
    case gpt2
    case llama3

    /// The regex as tokenizer.json spells it.
    public var regex: String {
        switch self {
        case .gpt2: return #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        case .llama3:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        }
    }

    /// The pattern whose regex text is exactly `regex`, if we implement it.
    public init?(regex: String) {
        guard let pattern = [SplitPattern.gpt2, .llama3].first(where: { $0.regex == regex }) else { return nil }
        self = pattern
    }

    /// Calls `body` for each piece of `bytes` that ends at or before `limit` (bytes.count: the text
    /// is complete), stopping at the first that does not; returns where that piece starts.
    @inline(__always)
    func forEachPiece(in bytes: UnsafeBufferPointer<UInt8>, endingBy limit: Int,
                      _ body: (Range<Int>) throws -> Void) rethrows -> Int {
        switch self {
        case .gpt2: return try PreTokenizer.forEachPiece(in: bytes, endingBy: limit, body)
        case .llama3: return try Llama3PreTokenizer.forEachPiece(in: bytes, endingBy: limit, body)
        }
    }

    /// The pieces of `text`, as strings.
    public func pieces(of text: String) -> [String] {
        switch self {
        case .gpt2: return PreTokenizer.pieces(of: text)
        case .llama3: return Llama3PreTokenizer.pieces(of: text)
        }
    }
}
