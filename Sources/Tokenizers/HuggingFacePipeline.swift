// What a Hugging Face tokenizer.json asks for, read and checked component by component: the
// normalizer, pre-tokenizer, post-processor and decoder, the BPE model's options and the added
// tokens. Every field that changes ids is either honoured or refused in one line naming it and
// what is supported instead; fields that only affect offsets (trim_offsets) are ignored.

struct HuggingFacePipeline {
    /// How text is cut into pieces before merging, which also decides the BPE flavour.
    enum Splitting: Equatable {
        /// Byte-level BPE: GPT-2's ByteLevel regex, or Llama 3's Split then a regex-free ByteLevel.
        case byteLevel(SplitPattern, addPrefixSpace: Bool)
        /// SentencePiece-style BPE over scalars: Metaspace, or no pre-tokenizer at all.
        case sentencePiece(SentencePieceBPE.Metaspace?)
    }

    struct AddedToken: Equatable {
        var id: Int32
        var content: String
        var special: Bool
        var normalized: Bool
    }

    var addedTokens: [AddedToken] = []
    var normalizer: [SentencePieceBPE.Normalization] = []
    var splitting = Splitting.sentencePiece(nil)
    /// The post-processor's template for one sequence: ids before and after the text's.
    var prepended: [Int32] = []
    var appended: [Int32] = []
    var decoder = TokenDecoder(steps: nil)
    var byteFallback = false
    var unknownToken: String?
    var fuseUnknown = false
    var ignoreMerges = false

    /// A reason the file cannot be used, for TokenizerError.malformed.
    struct Refusal: Error { let reason: String }

    init(_ root: JSONValue) throws {
        for key in ["truncation", "padding"] where root.presentMember(key) != nil {
            throw Refusal(reason: "\(key) is not supported (it changes the ids of a single text); set it to null")
        }
        guard let model = root.member("model") else { throw Refusal(reason: "missing key 'model'") }
        try readModelOptions(model)
        addedTokens = try Self.addedTokens(root.presentMember("added_tokens"))
        normalizer = try Self.normalizer(root.presentMember("normalizer"))
        splitting = try Self.splitting(root.presentMember("pre_tokenizer"))
        if case .byteLevel = splitting, !normalizer.isEmpty {
            throw Refusal(reason: "a normalizer together with a ByteLevel pre-tokenizer is not supported")
        }
        if !normalizer.isEmpty, let token = addedTokens.first(where: \.normalized) {
            throw Refusal(reason: "added token \(token.content.debugDescription) has normalized: true, which is not "
                          + "supported together with a normalizer")
        }
        (prepended, appended) = try Self.template(root.presentMember("post_processor"))
        decoder = TokenDecoder(steps: try root.presentMember("decoder").map(Self.decoderSteps))
    }

    private mutating func readModelOptions(_ model: JSONValue) throws {
        if let type = model.presentMember("type"), type != .string("BPE") {
            throw Refusal(reason: "model type '\(type.stringValue ?? type.kindDescription)' is not supported; only BPE is")
        }
        if let dropout = model.presentMember("dropout"), dropout != .number(0) {
            throw Refusal(reason: "model.dropout \(dropout.integerValue.map(String.init) ?? "\(dropout)") is not supported "
                          + "(BPE dropout samples random merges); only null or 0")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let value = model.presentMember(key), value != .string("") {
                throw Refusal(reason: "model.\(key) \(value.stringValue?.debugDescription ?? value.kindDescription) is not supported")
            }
        }
        byteFallback = try Self.flag(model, "byte_fallback", in: "model")
        fuseUnknown = try Self.flag(model, "fuse_unk", in: "model")
        ignoreMerges = try Self.flag(model, "ignore_merges", in: "model")
        unknownToken = try model.presentMember("unk_token").map { try Self.string($0, "model.unk_token") }
    }

    // MARK: - Components

    static func addedTokens(_ value: JSONValue?) throws -> [AddedToken] {
        guard let value else { return [] }
        guard let items = value.arrayValue else { throw Refusal(reason: "added_tokens is not an array") }
        return try items.enumerated().map { index, item in
            let key = "added_tokens[\(index)]"
            guard let id = item.member("id")?.integerValue, id >= 0, id < Int(Int32.max) else {
                throw Refusal(reason: "\(key).id is not a non-negative integer")
            }
            let content = try string(item.member("content"), "\(key).content")
            for option in ["single_word", "lstrip", "rstrip"] where try flag(item, option, in: key) {
                throw Refusal(reason: "added token \(content.debugDescription) has \(option): true, which is not supported")
            }
            let special = try flag(item, "special", in: key)
            let normalized = try item.presentMember("normalized").map { try bool($0, "\(key).normalized") } ?? !special
            return AddedToken(id: Int32(id), content: content, special: special, normalized: normalized)
        }
    }

    static func normalizer(_ value: JSONValue?) throws -> [SentencePieceBPE.Normalization] {
        guard let value else { return [] }
        switch try type(value, "normalizer") {
        case "Sequence":
            guard let items = value.member("normalizers")?.arrayValue else { throw Refusal(reason: "normalizer Sequence has no 'normalizers' array") }
            return try items.flatMap(normalizer)
        case "Prepend":
            return [.prepend(try string(value.member("prepend"), "normalizer Prepend.prepend"))]
        case "Replace":
            return [.replace(pattern: try stringPattern(value, "normalizer Replace"),
                             content: try string(value.member("content"), "normalizer Replace.content"))]
        case let other:
            throw Refusal(reason: "normalizer '\(other)' is not supported (supported: Prepend, Replace of a string, "
                          + "and a Sequence of them)")
        }
    }

    static func splitting(_ value: JSONValue?) throws -> Splitting {
        let supported = "pre_tokenizer must be ByteLevel, Metaspace, a Sequence of Split (GPT-2's or Llama 3's "
            + "pattern) and ByteLevel without its regex, or of Digits and ByteLevel"
        guard let value else { return .sentencePiece(nil) }
        switch try type(value, "pre_tokenizer") {
        case "ByteLevel":
            guard try value.presentMember("use_regex").map({ try bool($0, "pre_tokenizer.use_regex") }) ?? true else {
                throw Refusal(reason: "\(supported); ByteLevel with use_regex false needs a Split before it")
            }
            return .byteLevel(.gpt2, addPrefixSpace: try flag(value, "add_prefix_space", in: "pre_tokenizer"))
        case "Metaspace":
            return .sentencePiece(try metaspace(value, "pre_tokenizer"))
        case "Sequence":
            guard let items = value.member("pretokenizers")?.arrayValue else {
                throw Refusal(reason: "pre_tokenizer Sequence has no 'pretokenizers' array")
            }
            if items.count == 1 { return try splitting(items[0]) }
            let types = items.map { $0.member("type")?.stringValue ?? "?" }
            if types == ["Digits", "ByteLevel"],
               try items[1].presentMember("use_regex").map({ try bool($0, "pre_tokenizer.use_regex") }) ?? true {
                let individually = try flag(items[0], "individual_digits", in: "pre_tokenizer Digits")
                return .byteLevel(individually ? .gpt2IndividualDigits : .gpt2DigitRuns,
                                  addPrefixSpace: try flag(items[1], "add_prefix_space", in: "pre_tokenizer ByteLevel"))
            }
            guard types == ["Split", "ByteLevel"],
                  try items[1].presentMember("use_regex").map({ try bool($0, "pre_tokenizer.use_regex") }) == false else {
                throw Refusal(reason: "\(supported); got a Sequence of \(types.joined(separator: ", "))")
            }
            return .byteLevel(try splitPattern(items[0]),
                              addPrefixSpace: try flag(items[1], "add_prefix_space", in: "pre_tokenizer ByteLevel"))
        case let other:
            throw Refusal(reason: "\(supported); '\(other)' is not supported")
        }
    }

    static func splitPattern(_ split: JSONValue) throws -> SplitPattern {
        guard split.member("behavior") == .string("Isolated"), try !flag(split, "invert", in: "pre_tokenizer Split") else {
            throw Refusal(reason: "pre_tokenizer Split must have behavior Isolated and invert false")
        }
        let regex = try split.member("pattern")?.presentMember("Regex").map { try string($0, "pre_tokenizer Split.pattern") }
        guard let regex, let pattern = SplitPattern(regex: regex) else {
            throw Refusal(reason: "pre_tokenizer Split pattern \(regex?.debugDescription ?? "(a string)") is not supported "
                          + "(only GPT-2's and Llama 3's regex)")
        }
        return pattern
    }

    static func metaspace(_ value: JSONValue, _ name: String) throws -> SentencePieceBPE.Metaspace {
        let replacement = try string(value.member("replacement"), "\(name) Metaspace.replacement").unicodeScalars
        guard replacement.count == 1, let scalar = replacement.first else {
            throw Refusal(reason: "\(name) Metaspace.replacement must be one character")
        }
        let scheme: SentencePieceBPE.PrependScheme
        if let text = value.presentMember("prepend_scheme") {
            guard let parsed = SentencePieceBPE.PrependScheme(rawValue: text.stringValue ?? "") else {
                throw Refusal(reason: "\(name) Metaspace.prepend_scheme must be always, first or never")
            }
            scheme = parsed
        } else {
            scheme = try value.presentMember("add_prefix_space").map { try bool($0, "\(name) Metaspace.add_prefix_space") } ?? true
                ? .always : .never
        }
        let split = try value.presentMember("split").map { try bool($0, "\(name) Metaspace.split") } ?? true
        return SentencePieceBPE.Metaspace(replacement: scalar, prependScheme: scheme, split: split)
    }
}
