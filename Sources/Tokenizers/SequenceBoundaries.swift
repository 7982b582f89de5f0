// The special tokens that frame a sequence: what `encode` puts around a text (a BOS where the
// tokenizer says so, rarely an EOS) and which tokens end a generated sequence (EOS, end of turn).
// Char, word and our own BPE tokenizers have none; Hugging Face tokenizers get them from their
// post-processor and their tokenizer_config.json / generation_config.json (TokenizerCompanions).

/// The tokens `encode` puts around a text and the tokens that end a generated sequence.
public struct SequenceBoundaries: Equatable, Sendable {
    /// Put before the text's tokens by `encode`.
    public var prepended: [Int32]
    /// Put after them.
    public var appended: [Int32]
    /// The beginning-of-sequence token the tokenizer names, whether or not `encode` adds it.
    public var beginOfSequence: Int32?
    /// Generation stops after any of these.
    public var endOfSequence: [Int32]

    /// Boundaries with these tokens; the defaults are none.
    public init(prepended: [Int32] = [], appended: [Int32] = [], beginOfSequence: Int32? = nil,
                endOfSequence: [Int32] = []) {
        self.prepended = prepended
        self.appended = appended
        self.beginOfSequence = beginOfSequence
        self.endOfSequence = endOfSequence
    }

    /// No framing tokens and no end of sequence (char, word and our own BPE tokenizers).
    public static let none = SequenceBoundaries()
}

extension Tokenizer {
    /// None, unless a tokenizer says otherwise.
    public var sequenceBoundaries: SequenceBoundaries { .none }

    /// Ids for `text`, with or without the tokens `encode` puts around it.
    public func encode(_ text: String, addingSpecialTokens: Bool) throws -> [Int32] {
        let ids = try encode(text)
        guard !addingSpecialTokens else { return ids }
        let boundaries = sequenceBoundaries
        return Array(ids.dropFirst(boundaries.prepended.count).dropLast(boundaries.appended.count))
    }
}
