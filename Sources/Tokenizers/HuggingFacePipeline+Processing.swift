// The tokenizer.json components that act after and around BPE: the post-processor's template (the
// special tokens put around one text) and the decoder's steps; and the typed field readers every
// component shares, each naming the field when it has the wrong type.

extension HuggingFacePipeline {
    /// The ids a post-processor puts before and after one text's tokens.
    static func template(_ value: JSONValue?) throws -> (prepended: [Int32], appended: [Int32]) {
        guard let value else { return ([], []) }
        switch try type(value, "post_processor") {
        case "ByteLevel":
            return ([], [])  // offsets only
        case "TemplateProcessing":
            return try singleTemplate(value)
        case "Sequence":
            guard let items = value.member("processors")?.arrayValue else {
                throw Refusal(reason: "post_processor Sequence has no 'processors' array")
            }
            let parts = try items.map(template)
            guard parts.filter({ !$0.prepended.isEmpty || !$0.appended.isEmpty }).count <= 1 else {
                throw Refusal(reason: "post_processor Sequence with more than one TemplateProcessing is not supported")
            }
            return parts.first { !$0.prepended.isEmpty || !$0.appended.isEmpty } ?? ([], [])
        case let other:
            throw Refusal(reason: "post_processor '\(other)' is not supported (only TemplateProcessing and ByteLevel)")
        }
    }

    /// TemplateProcessing's "single": special tokens around exactly one `$A`.
    private static func singleTemplate(_ value: JSONValue) throws -> (prepended: [Int32], appended: [Int32]) {
        guard let items = value.member("single")?.arrayValue else {
            throw Refusal(reason: "post_processor TemplateProcessing has no 'single' array")
        }
        var prepended: [Int32] = [], appended: [Int32] = []
        var sawSequence = false
        for item in items {
            if let sequence = item.member("Sequence") {
                guard sequence.member("id") == .string("A"), !sawSequence else {
                    throw Refusal(reason: "post_processor TemplateProcessing 'single' must hold $A exactly once")
                }
                sawSequence = true
            } else if let special = item.member("SpecialToken"), let name = special.member("id")?.stringValue {
                let ids = value.member("special_tokens")?.member(name)?.member("ids")?.arrayValue ?? []
                let converted = ids.compactMap(\.integerValue).filter { $0 >= 0 }.map { Int32(clamping: $0) }
                guard !ids.isEmpty, converted.count == ids.count else {
                    throw Refusal(reason: "post_processor TemplateProcessing names \(name.debugDescription) but its "
                                  + "special_tokens has no ids for it")
                }
                if sawSequence { appended += converted } else { prepended += converted }
            } else {
                throw Refusal(reason: "post_processor TemplateProcessing 'single' holds an item that is neither "
                              + "SpecialToken nor Sequence")
            }
        }
        guard sawSequence else { throw Refusal(reason: "post_processor TemplateProcessing 'single' has no $A") }
        return (prepended, appended)
    }

    static func decoderSteps(_ value: JSONValue) throws -> [TokenDecoder.Step] {
        switch try type(value, "decoder") {
        case "Sequence":
            guard let items = value.member("decoders")?.arrayValue else { throw Refusal(reason: "decoder Sequence has no 'decoders' array") }
            return try items.flatMap(decoderSteps)
        case "ByteLevel": return [.byteLevel]
        case "ByteFallback": return [.byteFallback]
        case "Fuse": return [.fuse]
        case "Replace":
            return [.replace(pattern: try stringPattern(value, "decoder Replace"),
                             content: try string(value.member("content"), "decoder Replace.content"))]
        case "Strip":
            let content = try string(value.member("content"), "decoder Strip.content").unicodeScalars
            guard content.count == 1, let scalar = content.first,
                  let start = value.member("start")?.integerValue, let stop = value.member("stop")?.integerValue,
                  start >= 0, stop >= 0 else {
                throw Refusal(reason: "decoder Strip needs one content character and non-negative start and stop")
            }
            return [.strip(content: scalar, start: start, stop: stop)]
        case "Metaspace":
            let metaspace = try metaspace(value, "decoder")
            return [.metaspace(replacement: metaspace.replacement, dropsInFirstToken: metaspace.prependScheme != .never)]
        case let other:
            throw Refusal(reason: "decoder '\(other)' is not supported (supported: ByteLevel, ByteFallback, Fuse, "
                          + "Replace, Strip, Metaspace, and a Sequence of them)")
        }
    }

    // MARK: - Typed fields

    static func type(_ value: JSONValue, _ name: String) throws -> String {
        guard let type = value.member("type")?.stringValue else { throw Refusal(reason: "\(name) has no 'type'") }
        return type
    }

    static func string(_ value: JSONValue?, _ name: String) throws -> String {
        guard let text = value?.stringValue else {
            throw Refusal(reason: "\(name) must be a string, got \(value?.kindDescription ?? "nothing")")
        }
        return text
    }

    static func bool(_ value: JSONValue, _ name: String) throws -> Bool {
        guard let flag = value.boolValue else { throw Refusal(reason: "\(name) must be true or false, got \(value.kindDescription)") }
        return flag
    }

    /// An optional boolean field; missing or null is false.
    static func flag(_ object: JSONValue, _ key: String, in name: String) throws -> Bool {
        try object.presentMember(key).map { try bool($0, "\(name).\(key)") } ?? false
    }

    /// A Replace step's {"String": ...} pattern; a {"Regex": ...} one is refused.
    static func stringPattern(_ value: JSONValue, _ name: String) throws -> String {
        if let text = value.member("pattern")?.member("String")?.stringValue { return text }
        if let regex = value.member("pattern")?.member("Regex")?.stringValue {
            throw Refusal(reason: "\(name) with the regex \(regex.debugDescription) is not supported (only a string pattern)")
        }
        throw Refusal(reason: "\(name).pattern must be {\"String\": ...}")
    }
}
