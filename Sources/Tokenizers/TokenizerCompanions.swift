// The files beside a Hub tokenizer.json that say how sequences begin and end:
//   tokenizer_config.json    add_bos_token / add_eos_token, bos_token / eos_token
//   special_tokens_map.json  bos_token / eos_token (older checkpoints)
//   generation_config.json   bos_token_id, eos_token_id (one id or a list: where generation stops)
// The rules are transformers': add_bos_token or add_eos_token, when present, replace the
// tokenizer.json template (a BOS before, an EOS after the text); otherwise the template stands.
// Generation stops at generation_config.json's eos_token_id, else at the configured eos_token.
// Other keys (chat templates, model_max_length, ...) do not change the ids of a text.

import FoundationEssentials

struct TokenizerCompanions {
    static let fileNames = ["tokenizer_config.json", "special_tokens_map.json", "generation_config.json"]

    /// Each companion file found, as read.
    var files: [String: Data] = [:]
    var addBOS: Bool?
    var addEOS: Bool?
    /// Token contents, each with the file that named it (tokenizer_config.json first).
    var bosToken: (content: String, file: String)?
    var eosToken: (content: String, file: String)?
    var generationBOS: Int?
    var generationEOS: [Int]?

    /// Reads whichever companion files exist in `directory`.
    static func read(directory: String) throws -> TokenizerCompanions {
        var companions = TokenizerCompanions()
        for name in fileNames {
            let path = directory + "/" + name
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let data = try FileIO.readData(path)
            let root: JSONValue
            do {
                root = try JSONParser.parse(Array(data))
            } catch {
                throw TokenizerError.malformed(path: path, reason: "\(error)")
            }
            companions.files[name] = data
            do {
                try companions.take(root, from: name)
            } catch let refusal as HuggingFacePipeline.Refusal {
                throw TokenizerError.malformed(path: path, reason: refusal.reason)
            }
        }
        return companions
    }

    private mutating func take(_ root: JSONValue, from name: String) throws {
        guard root.objectMembers != nil else { throw HuggingFacePipeline.Refusal(reason: "not a JSON object") }
        switch name {
        case "generation_config.json":
            generationBOS = try root.presentMember("bos_token_id").map { try Self.id($0, "bos_token_id") }
            generationEOS = try root.presentMember("eos_token_id").map { value in
                try (value.arrayValue ?? [value]).map { try Self.id($0, "eos_token_id") }
            }
        default:
            if name == "tokenizer_config.json" {
                addBOS = try root.presentMember("add_bos_token").map { try HuggingFacePipeline.bool($0, "add_bos_token") }
                addEOS = try root.presentMember("add_eos_token").map { try HuggingFacePipeline.bool($0, "add_eos_token") }
            }
            if bosToken == nil, let content = try Self.tokenContent(root.presentMember("bos_token"), "bos_token") {
                bosToken = (content, name)
            }
            if eosToken == nil, let content = try Self.tokenContent(root.presentMember("eos_token"), "eos_token") {
                eosToken = (content, name)
            }
        }
    }

    /// A token named as a string or as {"content": ...} (transformers' AddedToken form).
    private static func tokenContent(_ value: JSONValue?, _ key: String) throws -> String? {
        guard let value else { return nil }
        if let text = value.stringValue ?? value.member("content")?.stringValue { return text }
        throw HuggingFacePipeline.Refusal(reason: "\(key) must be a string or an object with 'content', got \(value.kindDescription)")
    }

    private static func id(_ value: JSONValue, _ key: String) throws -> Int {
        guard let id = value.integerValue, id >= 0 else {
            throw HuggingFacePipeline.Refusal(reason: "\(key) must be a non-negative integer (or a list of them), got \(value.kindDescription)")
        }
        return id
    }

    /// The boundaries these files and the tokenizer.json template give. `tokenID` finds a token by
    /// its content; `directory` names the files in errors.
    func boundaries(template: (prepended: [Int32], appended: [Int32]), vocabularySize: Int, directory: String,
                    tokenID: (String) -> Int32?) throws -> SequenceBoundaries {
        func resolve(_ token: (content: String, file: String)?, _ key: String) throws -> Int32? {
            guard let token else { return nil }
            guard let id = tokenID(token.content) else {
                throw TokenizerError.malformed(path: directory + "/" + token.file,
                                               reason: "\(key) \(token.content.debugDescription) is not a token of tokenizer.json")
            }
            return id
        }
        func checked(_ ids: [Int], _ key: String) throws -> [Int32] {
            if let bad = ids.first(where: { $0 >= vocabularySize }) {
                throw TokenizerError.malformed(path: directory + "/generation_config.json",
                                               reason: "\(key) \(bad) is outside the vocabulary of \(vocabularySize) tokens")
            }
            return ids.map { Int32($0) }
        }
        let bos = try resolve(bosToken, "bos_token"), eos = try resolve(eosToken, "eos_token")
        var result = SequenceBoundaries(prepended: template.prepended, appended: template.appended)
        if addBOS != nil || addEOS != nil {
            result.prepended = addBOS == true ? bos.map { [$0] } ?? [] : []
            result.appended = addEOS == true ? eos.map { [$0] } ?? [] : []
        }
        result.beginOfSequence = try generationBOS.map { try checked([$0], "bos_token_id")[0] } ?? bos
        result.endOfSequence = try generationEOS.map { try checked($0, "eos_token_id") } ?? eos.map { [$0] } ?? []
        return result
    }
}
