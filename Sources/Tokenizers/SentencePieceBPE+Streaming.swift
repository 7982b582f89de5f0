// Where a non-final chunk of a longer text may be cut so that encoding the rest afresh (as a new
// text, with its own prepended "▁") gives exactly the tokens of encoding the whole text: see
// SentencePieceBPE+Encoding.swift. The cut lies on a space inside a text segment, outside any
// added token, and far enough from the chunk's end that no added token can be cut off.

extension SentencePieceBPE {
    enum StreamCut {
        /// The next chunk starts with the space: Metaspace gives it a "▁" and prepends none.
        case beforeSpace
        /// The space is consumed unencoded: the legacy normalizer's prepended "▁" stands for it.
        case afterSpace
        /// No exact cut exists: everything waits for the final chunk.
        case none
    }

    var streamCut: StreamCut {
        if configuration.normalizer.isEmpty, let metaspace = configuration.metaspace, metaspace.split || wordStart != nil {
            return .beforeSpace
        }
        if configuration.metaspace == nil, wordStart != nil { return .afterSpace }  // the legacy normalizer
        return .none
    }

    /// How many bytes of a non-final chunk to encode, and how many that consumes.
    func streamingCut(in bytes: UnsafeBufferPointer<UInt8>) -> (encoded: Int, consumed: Int) {
        let style = streamCut
        guard style != .none else { return (0, 0) }
        let marker = Array(String(configuration.metaspace?.replacement ?? "▁").utf8)
        var space = bytes.count - max(addedTokens.longest + 1, 8)
        while space > 1 {
            defer { space -= 1 }
            // A space after a plain character (not a space, not "▁", which might merge on).
            guard bytes[space] == UInt8(ascii: " "), bytes[space - 1] != UInt8(ascii: " "),
                  !UnsafeBufferPointer(rebasing: bytes[..<space]).reversed().starts(with: marker.reversed()),
                  isInsideSegment(bytes, position: space) else { continue }
            return style == .beforeSpace ? (space, space) : (space, space + 1)
        }
        return (0, 0)
    }

    /// Whether `position` falls strictly inside a text segment: not inside an added token, and
    /// with at least one byte of text between it and the added token (or text start) before it.
    private func isInsideSegment(_ bytes: UnsafeBufferPointer<UInt8>, position: Int) -> Bool {
        var start = 0
        var segmentStart = 0
        while let match = addedTokens.next(in: bytes, from: start), match.start < position {
            if match.start + match.length > position { return false }
            segmentStart = match.start + match.length
            start = segmentStart
        }
        return position > segmentStart
    }
}
