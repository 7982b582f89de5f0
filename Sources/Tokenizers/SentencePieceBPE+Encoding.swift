// Encoding with a SentencePiece-style BPE, step by step as the `tokenizers` library runs it:
//   1. added tokens are cut out of the raw text; each text segment between them is processed alone;
//   2. the normalizer (Prepend, Replace) rewrites the segment;
//   3. Metaspace turns spaces into "▁", prepends one per its scheme ("first": only to a segment at
//      the very start of the text), and splits into words if `split`;
//   4. each piece becomes symbols (vocabulary scalars, else <0xNN> byte tokens, else the unknown
//      token), and BPEMerges joins them.
// A piece with no split (a whole text under the legacy normalizer) is still merged run by run,
// cut where no merge can cross (ScalarJunctions), so runs repeat and the cache pays off.
//
// Streaming: a non-final chunk is encoded up to a cut where starting afresh gives the same tokens
// as going on: before a space (Metaspace: the next chunk starts with "▁" and gets none prepended),
// or after a space (legacy normalizer: the next chunk's prepended "▁" stands for that space).
// Configurations without such cuts consume nothing until the final chunk.

extension SentencePieceBPE {
    /// Ids for `bytes` (UTF-8) without BOS/EOS, appended to `tokens`; returns how many bytes were
    /// consumed (all of them when `isFinal`).
    func encodeChunk(_ bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool, into tokens: inout [Int32]) throws -> Int {
        let end = isFinal ? (encoded: bytes.count, consumed: bytes.count) : streamingCut(in: bytes)
        let text = UnsafeBufferPointer(rebasing: bytes[..<end.encoded])
        if let invalid = UTF8Boundary.firstInvalidOffset(in: text) { throw TokenizerError.invalidUTF8(offset: invalid) }
        var start = 0
        while start < text.count {
            let match = addedTokens.next(in: text, from: start)
            let segmentEnd = match?.start ?? text.count
            if segmentEnd > start {
                do {
                    try encodeSegment(UnsafeBufferPointer(rebasing: text[start ..< segmentEnd]), atTextStart: start == 0,
                                      into: &tokens)
                } catch let TokenizerError.unknownCharacter(character, _, size) {
                    // The word that failed no longer knows where it was: name the first occurrence.
                    let scalars = Array(String(decoding: text, as: UTF8.self).unicodeScalars)
                    let position = scalars.firstIndex(of: character) ?? 0
                    throw TokenizerError.unknownCharacter(character, position: position, vocabularySize: size)
                }
            }
            guard let match else { break }
            tokens.append(match.id)
            start = match.start + match.length
        }
        return end.consumed
    }

    private func encodeSegment(_ segment: UnsafeBufferPointer<UInt8>, atTextStart: Bool, into tokens: inout [Int32]) throws {
        var normalized = Array(segment)
        for step in configuration.normalizer {
            switch step {
            case let .prepend(text): normalized = Array(text.utf8) + normalized  // segments are never empty
            case let .replace(pattern, content): normalized = Self.replacing(Array(pattern.utf8), with: Array(content.utf8), in: normalized)
            }
        }
        var split = false
        if let metaspace = configuration.metaspace {
            let marker = Array(String(metaspace.replacement).utf8)
            normalized = Self.replacing([UInt8(ascii: " ")], with: marker, in: normalized)
            let needsPrefix = !normalized.starts(with: marker)
            switch metaspace.prependScheme {
            case .always where needsPrefix, .first where needsPrefix && atTextStart: normalized = marker + normalized
            default: break
            }
            split = metaspace.split
        }
        try normalized.withUnsafeBufferPointer { text in
            try cache.state.withLock { state in
                if state.table.count > EncodeCache.maximumEntries { state = EncodeCache.State() }
                if split, let marker = configuration.metaspace.map({ Array(String($0.replacement).utf8) }) {
                    // Metaspace's words are the pieces: ignore_merges applies to each.
                    try Self.forEachWord(in: text, at: marker) { try appendPiece($0, state: &state, to: &tokens) }
                } else {
                    try appendPiece(text, state: &state, to: &tokens)
                }
            }
        }
    }

    /// One pre-tokenized piece: whole when `ignoreMerges` finds it in the vocabulary, else merged
    /// run by run between positions no merge crosses (`junctions`), else at once.
    private func appendPiece(_ piece: UnsafeBufferPointer<UInt8>, state: inout EncodeCache.State, to tokens: inout [Int32]) throws {
        if configuration.ignoreMerges, let entry = vocabulary.find(piece) {
            tokens.append(vocabularyIDs[entry])
        } else if let junctions {
            try junctions.forEachRun(in: piece) { try appendMerged($0, state: &state, to: &tokens) }
        } else {
            try appendMerged(piece, state: &state, to: &tokens)
        }
    }

    /// The tokens of one word, from the cache when it was seen before (long words are not kept).
    private func appendMerged(_ word: UnsafeBufferPointer<UInt8>, state: inout EncodeCache.State, to tokens: inout [Int32]) throws {
        guard word.count <= 256 else { return tokens.append(contentsOf: merges.apply(to: try symbols(word))) }
        let (entry, inserted) = state.table.insert(word)
        if inserted {
            do {
                state.tokens.append(contentsOf: merges.apply(to: try symbols(word)))
            } catch {
                state = EncodeCache.State()  // forget the entry that has no tokens
                throw error
            }
            state.offsets.append(state.tokens.count)
        }
        tokens.append(contentsOf: state.tokens[state.offsets[entry] ..< state.offsets[entry + 1]])
    }

    /// The starting symbols of a word: each scalar's token, else its bytes' <0xNN> tokens, else
    /// the unknown token (consecutive unknowns fused into one when `fuseUnknown`).
    func symbols(_ word: UnsafeBufferPointer<UInt8>) throws -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(word.count)
        var previousWasUnknown = false
        var index = 0
        while index < word.count {
            let length = Self.scalarLength(leading: word[index])
            let scalar = UnsafeBufferPointer(rebasing: word[index ..< index + length])
            index += length
            if let entry = vocabulary.find(scalar) {
                symbols.append(vocabularyIDs[entry])
                previousWasUnknown = false
            } else if configuration.byteFallback {
                symbols.append(contentsOf: scalar.map { fallbackIDs[Int($0)] })
                previousWasUnknown = false
            } else if let unknown = configuration.unknownToken {
                if !(previousWasUnknown && configuration.fuseUnknown) { symbols.append(unknown) }
                previousWasUnknown = true
            } else {
                let character = String(decoding: scalar, as: UTF8.self).unicodeScalars.first!
                throw TokenizerError.unknownCharacter(character, position: -1, vocabularySize: vocabularySize)
            }
        }
        return symbols
    }

    /// Byte length of the UTF-8 sequence starting with `leading` (the text is valid UTF-8).
    @inline(__always)
    static func scalarLength(leading: UInt8) -> Int {
        leading < 0x80 ? 1 : leading < 0xE0 ? 2 : leading < 0xF0 ? 3 : 4
    }

    /// Calls `body` with `bytes` cut before each `marker`, each word keeping the marker it starts
    /// with (Metaspace's split: "a▁▁b" is "a", "▁", "▁b").
    static func forEachWord(in bytes: UnsafeBufferPointer<UInt8>, at marker: [UInt8],
                            _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) rethrows {
        var start = 0, index = 0
        while index < bytes.count {
            let isMarker = bytes[index] == marker[0] && index + marker.count <= bytes.count
                && UnsafeBufferPointer(rebasing: bytes[index ..< index + marker.count]).elementsEqual(marker)
            if isMarker && index > start {
                try body(UnsafeBufferPointer(rebasing: bytes[start ..< index]))
                start = index
            }
            index += isMarker ? marker.count : 1
        }
        if start < bytes.count { try body(UnsafeBufferPointer(rebasing: bytes[start...])) }
    }

    static func replacing(_ pattern: [UInt8], with content: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        guard !pattern.isEmpty else { return bytes }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count + bytes.count / 2)
        var index = 0
        while index < bytes.count {
            if bytes[index] == pattern[0] && bytes[index...].starts(with: pattern) {
                result.append(contentsOf: content)
                index += pattern.count
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return result
    }
}
