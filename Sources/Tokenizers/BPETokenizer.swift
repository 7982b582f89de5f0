// Byte-level BPE in the GPT-2 style: text is split into pieces by GPT-2's pre-tokenizer (or Llama
// 3's, `splitPattern`), each piece's UTF-8 bytes start as one token per byte, and ranked merges join
// adjacent tokens (lowest rank first) until none applies; with `ignoreMerges` (Llama 3) a piece that
// is itself a token is taken whole. Special tokens such as <|endoftext|> are matched in the text before
// pre-tokenisation and map straight to their ids. Any byte sequence round-trips, valid UTF-8 or not.
//
// Encoding caches each distinct piece's tokens (natural text repeats its words), which is what
// makes it fast. Saved as a Hugging Face tokenizer.json (BPETokenizer+HuggingFace.swift).

import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// GPT-2 style byte-level BPE: any byte sequence encodes, and decodes back to the same bytes.
public struct BPETokenizer: Tokenizer, Sendable {
    /// Its `kind`.
    public static let typeName = "bpe"
    /// GPT-2's document separator, the special token trained tokenizers get by default.
    public static let endOfText = "<|endoftext|>"

    /// A merge rule: adjacent tokens `left` and `right` become one.
    public struct Merge: Equatable, Sendable {
        /// The first token's id.
        public var left: Int32
        /// The second token's id.
        public var right: Int32
        /// The rule joining `left` and `right`.
        public init(_ left: Int32, _ right: Int32) { self.left = left; self.right = right }
    }

    /// Text that always stands for one token, matched before pre-tokenisation.
    public struct SpecialToken: Equatable, Sendable {
        /// The text, e.g. "<|endoftext|>".
        public var content: String
        /// Its token id.
        public var id: Int32
        /// A special token.
        public init(content: String, id: Int32) { self.content = content; self.id = id }
    }

    /// Token id -> the bytes it stands for (a special token: its content's UTF-8).
    public let tokenBytes: [[UInt8]]
    /// Merges in rank order: rank r joins `merges[r].left` and `merges[r].right`.
    public let merges: [Merge]
    /// Texts that map straight to their ids.
    public let specialTokens: [SpecialToken]
    /// Hugging Face's ByteLevel `add_prefix_space`: a space is put before each text segment (the
    /// text's start, and after each special token) not starting with one.
    public let addPrefixSpace: Bool
    /// The pattern that splits text into pieces.
    public let splitPattern: SplitPattern
    /// Hugging Face's BPE `ignore_merges`: a piece that is in the vocabulary is one token.
    public let ignoreMerges: Bool

    /// Byte b starts as token byteTokens[b].
    let byteTokens: [Int32]
    /// (left << 32 | right) -> rank.
    let mergeRanks: [UInt64: Int32]
    /// Rank -> the id of the joined token.
    let mergeResults: [Int32]
    /// specialStarts[b]: some special token begins with byte b.
    let specialStarts: [Bool]
    /// Special tokens as UTF-8, longest first (so the longest match wins).
    let specialBytes: [(bytes: [UInt8], id: Int32)]
    /// With `ignoreMerges`: the vocabulary's byte strings, and the id of each entry.
    let wholeTokens: (table: ByteStringTable, ids: [Int32])?
    let cache: EncodeCache

    /// One id per entry of `tokenBytes`, special tokens included.
    public var vocabularySize: Int { tokenBytes.count }
    /// "bpe".
    public var kind: String { Self.typeName }

    /// A tokenizer over `tokenBytes` (id i stands for tokenBytes[i]) with `merges` in rank order.
    /// Every single byte must be a token, and every merge's joined bytes must be one too.
    public init(tokenBytes: [[UInt8]], merges: [Merge], specialTokens: [SpecialToken] = [],
                addPrefixSpace: Bool = false, splitPattern: SplitPattern = .gpt2, ignoreMerges: Bool = false) throws {
        func fail(_ reason: String) -> TokenizerError { .malformed(path: "<bpe>", reason: reason) }
        let specialIDs = Set(specialTokens.map(\.id))
        for special in specialTokens {
            guard tokenBytes.indices.contains(Int(special.id)) else {
                throw fail("special token \(special.content.debugDescription) has id \(special.id), outside the vocabulary of \(tokenBytes.count)")
            }
            guard !special.content.isEmpty else { throw fail("a special token is empty") }
        }
        var table = ByteStringTable(capacity: tokenBytes.count)
        var idForEntry: [Int32] = []
        for (id, bytes) in tokenBytes.enumerated() where !specialIDs.contains(Int32(id)) {
            let (entry, inserted) = table.insert(bytes)
            if inserted { idForEntry.append(Int32(id)) } else { _ = entry }
        }
        var byteTokens = [Int32](repeating: -1, count: 256)
        for byte in 0..<256 {
            guard let entry = table.find([UInt8(byte)]) else {
                throw fail("the vocabulary has no token for byte 0x\(String(byte, radix: 16)) "
                           + "(\(ByteLevel.characterForByte[byte].escaped(asASCII: true)))")
            }
            byteTokens[byte] = idForEntry[entry]
        }
        var ranks: [UInt64: Int32] = [:]
        ranks.reserveCapacity(merges.count)
        var results: [Int32] = []
        results.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() {
            guard tokenBytes.indices.contains(Int(merge.left)), tokenBytes.indices.contains(Int(merge.right)) else {
                throw fail("merge \(rank) refers to a token outside the vocabulary")
            }
            let joined = tokenBytes[Int(merge.left)] + tokenBytes[Int(merge.right)]
            guard let entry = table.find(joined) else {
                throw fail("merge \(rank) (\(ByteLevel.encode(tokenBytes[Int(merge.left)])) "
                           + "\(ByteLevel.encode(tokenBytes[Int(merge.right)]))) makes a token that is not in the vocabulary")
            }
            let key = UInt64(UInt32(merge.left)) << 32 | UInt64(UInt32(merge.right))
            if ranks[key] == nil { ranks[key] = Int32(rank) }
            results.append(idForEntry[entry])
        }
        self.tokenBytes = tokenBytes
        self.merges = merges
        self.specialTokens = specialTokens
        self.addPrefixSpace = addPrefixSpace
        self.splitPattern = splitPattern
        self.ignoreMerges = ignoreMerges
        wholeTokens = ignoreMerges ? (table, idForEntry) : nil
        self.byteTokens = byteTokens
        mergeRanks = ranks
        mergeResults = results
        let specials = specialTokens.map { (bytes: Array($0.content.utf8), id: $0.id) }
            .sorted { $0.bytes.count > $1.bytes.count }
        specialBytes = specials
        var starts = [Bool](repeating: false, count: 256)
        for special in specials { starts[Int(special.bytes[0])] = true }
        specialStarts = starts
        cache = EncodeCache()
    }

    /// The id of a special token by its content.
    public func specialTokenID(_ content: String) -> Int32? {
        specialTokens.first { $0.content == content }?.id
    }

    // MARK: - Encoding

    /// Byte-level BPE over the text's UTF-8, special tokens matched first; never throws (every
    /// byte is a token).
    public func encode(_ text: String) throws -> [Int32] {
        var copy = text
        return copy.withUTF8 { bytes in
            var tokens: [Int32] = []
            tokens.reserveCapacity(bytes.count / 3)
            _ = encodeChunk(bytes, isFinal: true, atTextStart: true, into: &tokens)
            return tokens
        }
    }

    /// Tokens for arbitrary bytes (not necessarily UTF-8).
    public func encode(bytes: UnsafeBufferPointer<UInt8>) -> [Int32] {
        var tokens: [Int32] = []
        tokens.reserveCapacity(bytes.count / 3)
        _ = encodeChunk(bytes, isFinal: true, into: &tokens)
        return tokens
    }

    /// The tokens of `bytes`, which need not be valid UTF-8.
    public func encode(bytes: [UInt8]) -> [Int32] {
        bytes.withUnsafeBufferPointer { encode(bytes: $0) }
    }

    /// A chunk of a longer stream that does not start the text (no prefix space); returns the
    /// bytes consumed, up to the last point a later byte cannot change (see `Tokenizer.encodeChunk`).
    public func encodeChunk(_ bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool, into tokens: inout [Int32]) -> Int {
        encodeChunk(bytes, isFinal: isFinal, atTextStart: false, into: &tokens)
    }

    /// `atTextStart`: the chunk begins a text, so `addPrefixSpace` applies to its first segment.
    func encodeChunk(_ bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool, atTextStart: Bool,
                     into tokens: inout [Int32]) -> Int {
        // A special token cut off by the chunk's end must not be consumed as ordinary text.
        let margin = max(PreTokenizer.streamingMargin, (specialBytes.first?.bytes.count ?? 0) + 1)
        let safeEnd = isFinal ? bytes.count : bytes.count - margin
        return cache.state.withLock { state in
            if state.table.count > EncodeCache.maximumEntries { state = EncodeCache.State() }
            var start = 0
            // Where the segment at `start` began to need a prefix space, and the token count then.
            var segmentOpening: (start: Int, tokenCount: Int)? = atTextStart ? (0, tokens.count) : nil
            while start < bytes.count {
                var (segmentEnd, special) = nextSpecialToken(in: bytes, from: start)
                if segmentEnd > safeEnd { special = nil }  // decided once more bytes have arrived
                // Text before a special token is complete; otherwise stop short of the safe end.
                let limit = special != nil ? segmentEnd - start : max(0, safeEnd - start)
                let segment = UnsafeBufferPointer(rebasing: bytes[start ..< segmentEnd])
                var consumed: Int
                if addPrefixSpace, let opening = segmentOpening, let first = segment.first, first != UInt8(ascii: " ") {
                    consumed = forEachPrefixedPiece(segment, endingBy: limit) { piece in
                        appendTokens(forPiece: piece, state: &state, to: &tokens)
                    }
                    if consumed < 0 {  // not even the first piece is decided: rescan from the opening
                        tokens.removeLast(tokens.count - opening.tokenCount)
                        return opening.start
                    }
                } else {
                    consumed = splitPattern.forEachPiece(in: segment, endingBy: limit) { range in
                        appendTokens(forPiece: UnsafeBufferPointer(rebasing: segment[range]), state: &state, to: &tokens)
                    }
                }
                guard let special else { return start + consumed }
                segmentOpening = (segmentEnd, tokens.count)
                tokens.append(special.id)
                start = segmentEnd + special.length
            }
            return bytes.count
        }
    }

    /// The pieces of " " + `segment`, for `addPrefixSpace`: returns how many bytes of `segment`
    /// were consumed, or -1 when the first piece (which holds the added space) is undecided.
    private func forEachPrefixedPiece(_ segment: UnsafeBufferPointer<UInt8>, endingBy limit: Int,
                                      _ body: (UnsafeBufferPointer<UInt8>) -> Void) -> Int {
        let prefixed = [UInt8(ascii: " ")] + segment
        return prefixed.withUnsafeBufferPointer { buffer in
            splitPattern.forEachPiece(in: buffer, endingBy: limit + 1) { body(UnsafeBufferPointer(rebasing: buffer[$0])) } - 1
        }
    }

    /// The next special token at or after `start`: where it begins (or bytes.count), its id and length.
    private func nextSpecialToken(in bytes: UnsafeBufferPointer<UInt8>, from start: Int)
        -> (Int, (id: Int32, length: Int)?)
    {
        guard !specialBytes.isEmpty else { return (bytes.count, nil) }
        var index = start
        while index < bytes.count {
            if specialStarts[Int(bytes[index])] {
                for special in specialBytes where index + special.bytes.count <= bytes.count {
                    if special.bytes.withUnsafeBufferPointer({ memcmp($0.baseAddress!, bytes.baseAddress! + index, $0.count) == 0 }) {
                        return (index, (special.id, special.bytes.count))
                    }
                }
            }
            index += 1
        }
        return (bytes.count, nil)
    }

    @inline(__always)
    private func appendTokens(forPiece piece: UnsafeBufferPointer<UInt8>, state: inout EncodeCache.State,
                              to tokens: inout [Int32]) {
        let (entry, inserted) = state.table.insert(piece)
        if inserted {
            let merged = wholeToken(piece).map { [$0] } ?? mergedTokens(piece)
            state.tokens.append(contentsOf: merged)
            state.offsets.append(state.tokens.count)
        }
        tokens.append(contentsOf: state.tokens[state.offsets[entry] ..< state.offsets[entry + 1]])
    }

    /// With `ignoreMerges`, the token that is exactly `piece`, if any.
    private func wholeToken(_ piece: UnsafeBufferPointer<UInt8>) -> Int32? {
        guard let wholeTokens, piece.count > 1, let entry = wholeTokens.table.find(piece) else { return nil }
        return wholeTokens.ids[entry]
    }

    /// Applies the merges to one piece: repeatedly join every occurrence of the lowest-ranked
    /// adjacent pair, left to right, until no adjacent pair has a merge.
    func mergedTokens(_ piece: UnsafeBufferPointer<UInt8>) -> [Int32] {
        var symbols = piece.map { byteTokens[Int($0)] }
        while symbols.count > 1 {
            var bestRank = Int32.max
            for index in 0 ..< symbols.count - 1 {
                if let rank = mergeRanks[Self.pairKey(symbols[index], symbols[index + 1])], rank < bestRank {
                    bestRank = rank
                }
            }
            guard bestRank != Int32.max else { break }
            let merge = merges[Int(bestRank)], joined = mergeResults[Int(bestRank)]
            var write = 0, read = 0
            while read < symbols.count {
                if read + 1 < symbols.count && symbols[read] == merge.left && symbols[read + 1] == merge.right {
                    symbols[write] = joined
                    read += 2
                } else {
                    symbols[write] = symbols[read]
                    read += 1
                }
                write += 1
            }
            symbols.removeLast(symbols.count - write)
        }
        return symbols
    }

    @inline(__always)
    static func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    // MARK: - Decoding

    /// The concatenated bytes of each token; ids outside the vocabulary give U+FFFD's bytes.
    public func decodeBytes(_ tokens: [Int32]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(tokens.count * 4)
        for token in tokens {
            if tokenBytes.indices.contains(Int(token)) {
                bytes.append(contentsOf: tokenBytes[Int(token)])
            } else {
                bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])  // U+FFFD
            }
        }
        return bytes
    }

    /// Text for `tokens`; byte sequences that are not UTF-8 decode to U+FFFD.
    public func decode(_ tokens: [Int32]) -> String {
        var bytes = decodeBytes(tokens)
        if addPrefixSpace && bytes.first == UInt8(ascii: " ") { bytes.removeFirst() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Tokens of pieces already encoded, shared by copies of a tokenizer and locked per call.
final class EncodeCache: Sendable {
    /// Past this many distinct pieces the cache starts over (bounded memory on huge corpora).
    static let maximumEntries = 1 << 21

    struct State {
        var table = ByteStringTable(capacity: 1 << 14)
        var tokens: [Int32] = []
        var offsets: [Int] = [0]
    }

    let state = Mutex(State())
}
