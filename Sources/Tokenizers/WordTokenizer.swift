// Word tokenizer: one token per pre-tokenised piece (GPT-2's pieces: a word with its leading space,
// a number, a run of punctuation, whitespace), so decoding is plain concatenation. The vocabulary is
// the most frequent pieces of the training corpus, capped at a size; anything else encodes to the
// unknown token <unk> (id 0). Saved as {"type": "word", "unknown": "<unk>", "words": [...]}.

import FoundationEssentials

/// One token per pre-tokenised piece, from a capped vocabulary; the rest is <unk>.
public struct WordTokenizer: Tokenizer, Sendable {
    /// Its `kind`.
    public static let typeName = "word"
    /// The token text outside the vocabulary encodes to.
    public static let unknownToken = "<unk>"
    /// The unknown token's id.
    public static let unknownID: Int32 = 0

    /// Token id i is `words[i]`; words[0] is the unknown token.
    public let words: [String]
    /// Piece bytes -> table entry; entry e is token id e + 1.
    private let table: ByteStringTable

    /// The words, <unk> included.
    public var vocabularySize: Int { words.count }
    /// "word".
    public var kind: String { Self.typeName }

    /// A tokenizer over `words` (ids 1, 2, ... in this order; id 0 is <unk>). Words must be distinct.
    public init(words: [String]) throws {
        var table = ByteStringTable(capacity: words.count)
        for word in words {
            guard !word.isEmpty else { throw TokenizerError.malformed(path: "<words>", reason: "a word is empty") }
            guard table.insert(Array(word.utf8)).inserted else {
                throw TokenizerError.malformed(path: "<words>", reason: "word \(word.debugDescription) appears twice")
            }
        }
        self.words = [Self.unknownToken] + words
        self.table = table
    }

    /// The `vocabularySize - 1` most frequent pieces (all of them when nil), most frequent first;
    /// equal counts in byte order, so the same counts always give the same ids.
    public init(counts: PieceCounts, vocabularySize: Int? = nil) throws {
        if let vocabularySize, vocabularySize < 2 {
            throw TokenizerError.invalidVocabularySize(requested: vocabularySize, minimum: 2,
                                                       reason: "<unk> and at least one word")
        }
        var ranked: [(word: String, count: Int)] = []
        for entry in counts.entries {
            // Pieces that are not UTF-8 cannot be saved as JSON strings; they stay unknown.
            guard let word = String(validating: entry.bytes, as: UTF8.self) else { continue }
            ranked.append((word, entry.count))
        }
        guard !ranked.isEmpty else { throw TokenizerError.emptyCorpus }
        ranked.sort { $0.count != $1.count ? $0.count > $1.count : Array($0.word.utf8).lexicographicallyPrecedes($1.word.utf8) }
        let kept = vocabularySize.map { min(ranked.count, $0 - 1) } ?? ranked.count
        try self.init(words: ranked.prefix(kept).map(\.word))
    }

    /// The most frequent pieces of `corpus`, at most `vocabularySize` tokens with <unk> (nil: all).
    public init(corpus: String, vocabularySize: Int? = nil) throws {
        try self.init(counts: PieceCounts.count(corpus), vocabularySize: vocabularySize)
    }

    // MARK: - Encoding

    /// One id per pre-tokenised piece, <unk> (id 0) for pieces outside the vocabulary; never
    /// throws (invalid UTF-8 cannot reach it through `String`).
    public func encode(_ text: String) throws -> [Int32] {
        var copy = text
        return copy.withUTF8 { bytes in
            var tokens: [Int32] = []
            _ = encodeChunk(bytes, isFinal: true, into: &tokens)
            return tokens
        }
    }

    /// The pieces of a chunk of a longer stream; returns the bytes consumed, up to the last piece
    /// that later bytes cannot extend (see `Tokenizer.encodeChunk`).
    public func encodeChunk(_ bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool, into tokens: inout [Int32]) -> Int {
        PreTokenizer.forEachPiece(in: bytes, isFinal: isFinal) { range in
            tokens.append(table.find(UnsafeBufferPointer(rebasing: bytes[range])).map { Int32($0 + 1) } ?? Self.unknownID)
        }
    }

    /// The words concatenated (pieces carry their own spaces); ids outside the vocabulary give U+FFFD.
    public func decode(_ tokens: [Int32]) -> String {
        var text = ""
        for token in tokens { text += words.indices.contains(Int(token)) ? words[Int(token)] : "\u{FFFD}" }
        return text
    }

    // MARK: - JSON

    private struct File: Codable {
        var type: String
        var unknown: String
        var words: [String]
    }

    /// {"type": "word", "unknown": "<unk>", "words": [...]}, as `TokenizerFile.load` reads it.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(File(type: Self.typeName, unknown: Self.unknownToken, words: words))
    }

    /// Parses a saved tokenizer; `path` only names the file in errors.
    public init(jsonData: Data, path: String) throws {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: jsonData)
        } catch {
            throw TokenizerError.malformed(path: path, reason: FileIO.describe(error))
        }
        guard file.words.first == file.unknown else {
            throw TokenizerError.malformed(path: path, reason: "'words' must start with the unknown token \(file.unknown.debugDescription)")
        }
        do {
            try self.init(words: Array(file.words.dropFirst()))
        } catch let TokenizerError.malformed(_, reason) {
            throw TokenizerError.malformed(path: path, reason: reason)
        }
    }
}
