// SentencePiece-style BPE, as tokenizer.json files for Llama 2, TinyLlama and Mistral-like models
// describe it: spaces become "▁" (by a Metaspace pre-tokenizer, or by the Prepend + Replace
// normalizer older converters wrote), a "▁" is prepended as the file says, and BPE starts from
// Unicode scalars rather than bytes. A scalar that is not in the vocabulary becomes the tokens of
// its UTF-8 bytes, <0xNN> (byte_fallback), or the unknown token. Added tokens are matched in the
// raw text first. The decoder (TokenDecoder) undoes it.
//
// This is the vocabulary and the encoding rules; HuggingFaceTokenizer reads it from a file and adds
// what wraps the ids (BOS/EOS). Encoding is in SentencePieceBPE+Encoding.swift.

/// SentencePiece-style BPE: vocabulary, merges and the rules around them (see the file comment).
public struct SentencePieceBPE: Sendable {
    /// Its `kind`, as `Tokenizer.kind` reports it.
    public static let typeName = "sentencepiece-bpe"

    /// When the Metaspace pre-tokenizer puts a "▁" before a text segment that lacks one.
    public enum PrependScheme: String, Equatable, Sendable {
        /// always: before every segment; first: before the text's first only; never: not at all.
        case always, first, never
    }

    /// A Metaspace pre-tokenizer's settings.
    public struct Metaspace: Equatable, Sendable {
        /// What a space becomes ("▁").
        public var replacement: Unicode.Scalar
        /// When `replacement` is put before a segment.
        public var prependScheme: PrependScheme
        /// Split the text into words at each "▁" (each word keeps its leading "▁").
        public var split: Bool
    }

    /// One normalizer step, applied to each text segment.
    public enum Normalization: Equatable, Sendable {
        /// Put `text` before a non-empty segment.
        case prepend(String)
        /// Replace every occurrence of `pattern` by `content`.
        case replace(pattern: String, content: String)
    }

    /// Everything of a tokenizer.json but its vocabulary and merges.
    public struct Configuration: Equatable, Sendable {
        /// The normalizer's steps, in order.
        public var normalizer: [Normalization] = []
        /// The Metaspace pre-tokenizer, if the file has one.
        public var metaspace: Metaspace?
        /// A scalar outside the vocabulary becomes its UTF-8 bytes' <0xNN> tokens.
        public var byteFallback = false
        /// The unknown token's id, for scalars neither the vocabulary nor byte fallback covers.
        public var unknownToken: Int32?
        /// Consecutive unknown tokens become one.
        public var fuseUnknown = false
        /// A word that is a whole vocabulary entry is that token, merges or not.
        public var ignoreMerges = false
        /// How ids turn back into text.
        public var decoder = TokenDecoder(steps: nil)
        /// No normalizer, pre-tokenizer or fallback; no decoder.
        public init() {}
    }

    /// Token id -> its string (vocabulary entries with their "▁", added tokens' contents).
    public let tokens: [String]
    /// The rules the vocabulary is applied with.
    public let configuration: Configuration
    /// Non-added tokens by their UTF-8, and each entry's id.
    let vocabulary: ByteStringTable
    let vocabularyIDs: [Int32]
    /// Byte b -> the id of "<0xBB>", or -1.
    let fallbackIDs: [Int32]
    let merges: BPEMerges
    let addedTokens: AddedTokenMatcher
    /// The "▁" (as UTF-8) before which a text may be cut into independently merged words: set when
    /// no merge joins a token not ending in "▁" to one starting with it, so no token can span such
    /// a cut. Lets a long text be streamed in chunks.
    let wordStart: [UInt8]?
    /// Where merges never cross, to cut long pieces into short, cacheable runs (nil: not known).
    let junctions: ScalarJunctions?
    let cache = EncodeCache()

    /// One id per vocabulary entry.
    public var vocabularySize: Int { tokens.count }

    /// A tokenizer over `tokens` (id i is tokens[i]); `merges` in rank order as pairs of ids;
    /// `added` are the ids matched in raw text before anything else.
    public init(tokens: [String], merges: [(Int32, Int32)], added: [Int32], configuration: Configuration) throws {
        func fail(_ reason: String) -> TokenizerError { .malformed(path: "<sentencepiece-bpe>", reason: reason) }
        let addedIDs = Set(added)
        var table = ByteStringTable(capacity: tokens.count)
        var ids: [Int32] = []
        for (id, token) in tokens.enumerated() where !addedIDs.contains(Int32(id)) {
            if table.insert(Array(token.utf8)).inserted { ids.append(Int32(id)) }
        }
        var fallback = [Int32](repeating: -1, count: 256)
        for byte in 0..<256 {
            if let entry = table.find(Array(Self.fallbackToken(UInt8(byte)).utf8)) { fallback[byte] = ids[entry] }
        }
        if configuration.byteFallback, let missing = fallback.firstIndex(of: -1) {
            throw fail("byte_fallback is on but the vocabulary has no token \(Self.fallbackToken(UInt8(missing)))")
        }
        var mergeTable: [UInt64: BPEMerges.Merge] = [:]
        mergeTable.reserveCapacity(merges.count)
        for (rank, (left, right)) in merges.enumerated() {
            guard tokens.indices.contains(Int(left)), tokens.indices.contains(Int(right)) else {
                throw fail("merge \(rank) refers to a token outside the vocabulary")
            }
            guard let entry = table.find(Array((tokens[Int(left)] + tokens[Int(right)]).utf8)) else {
                throw fail("merge \(rank) (\(tokens[Int(left)]) \(tokens[Int(right)])) makes a token that is not in the vocabulary")
            }
            mergeTable[BPEMerges.key(left, right)] = BPEMerges.Merge(rank: Int32(rank), result: ids[entry])  // the last wins, as in the library
        }
        self.tokens = tokens
        self.configuration = configuration
        vocabulary = table
        vocabularyIDs = ids
        fallbackIDs = fallback
        self.merges = BPEMerges(mergeTable)
        addedTokens = AddedTokenMatcher(added.map { (tokens[Int($0)], $0) })
        wordStart = Self.safeWordStart(configuration, tokens: tokens, merges: merges)
        let opaque = Set(fallback.filter { $0 >= 0 } + (configuration.unknownToken.map { [$0] } ?? []))
        junctions = ScalarJunctions(tokens: tokens, merges: merges, opaque: opaque)
    }

    /// "<0x0A>" for byte 10: the spelling of byte-fallback tokens.
    static func fallbackToken(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "<0x" + (hex.count == 1 ? "0" : "") + hex + ">"
    }

    /// The word-start marker, if merges never cross in front of it (see `wordStart`).
    static func safeWordStart(_ configuration: Configuration, tokens: [String], merges: [(Int32, Int32)]) -> [UInt8]? {
        let marker: Unicode.Scalar
        if let metaspace = configuration.metaspace {
            marker = metaspace.replacement
        } else if configuration.normalizer == [.prepend("▁"), .replace(pattern: " ", content: "▁")] {
            marker = "▁"
        } else {
            return nil
        }
        for (left, right) in merges {
            let leftScalars = tokens[Int(left)].unicodeScalars, rightScalars = tokens[Int(right)].unicodeScalars
            if rightScalars.first == marker && leftScalars.last != marker { return nil }
        }
        return Array(String(marker).utf8)
    }

    /// The string of token `id`, or U+FFFD outside the vocabulary.
    func tokenString(_ id: Int32) -> String {
        tokens.indices.contains(Int(id)) ? tokens[Int(id)] : "\u{FFFD}"
    }

    /// Text for `ids`, through the file's decoder.
    public func decode(_ ids: [Int32]) -> String {
        configuration.decoder.decode(ids.map(tokenString))
    }

    /// The bytes each token stands for on its own, concatenated (for streaming a continuation).
    public func decodeBytes(_ ids: [Int32]) -> [UInt8] {
        ids.flatMap { configuration.decoder.streamingBytes(tokenString($0)) }
    }
}
