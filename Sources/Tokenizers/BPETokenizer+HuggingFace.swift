// A byte-level BPE tokenizer as a Hugging Face tokenizer.json: model "BPE" (vocab of byte-level
// strings, merges as "left right"), ByteLevel pre-tokenizer and decoder, special tokens as
// added_tokens. The Python `tokenizers` library loads what we write and gives the same ids; we read
// files it writes, GPT-2's included (merges as strings or as [left, right] pairs).

import Compute
import FoundationEssentials

extension BPETokenizer {
    // MARK: - Writing

    /// A Hugging Face tokenizer.json (model "BPE", ByteLevel pre-tokenizer and decoder, special tokens
    /// as added_tokens) that the Python `tokenizers` library loads to the same ids.
    public func jsonData() throws -> Data {
        var json = "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": ["
        for (index, special) in specialTokens.sorted(by: { $0.id < $1.id }).enumerated() {
            json += index == 0 ? "\n" : ",\n"
            json += "    {\"id\": \(special.id), \"content\": \(jsonQuoted(special.content)), \"single_word\": false, "
                + "\"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}"
        }
        json += specialTokens.isEmpty ? "],\n" : "\n  ],\n"
        json += "  \"normalizer\": null,\n"
        json += "  \"pre_tokenizer\": " + splitPattern.preTokenizerJSON(addPrefixSpace: addPrefixSpace) + ",\n"
        json += "  \"post_processor\": null,\n"
        json += "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true},\n"
        json += "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n"
            + "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n"
            + "    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n"
            + (ignoreMerges ? "    \"ignore_merges\": true,\n" : "") + "    \"vocab\": {"
        let specialIDs = Set(specialTokens.map(\.id))
        for (id, bytes) in tokenBytes.enumerated() {
            let text = specialIDs.contains(Int32(id)) ? String(decoding: bytes, as: UTF8.self) : ByteLevel.encode(bytes)
            json += (id == 0 ? "\n      " : ",\n      ") + jsonQuoted(text) + ": \(id)"
        }
        json += "\n    },\n    \"merges\": ["
        for (rank, merge) in merges.enumerated() {
            let pair = ByteLevel.encode(tokenBytes[Int(merge.left)]) + " " + ByteLevel.encode(tokenBytes[Int(merge.right)])
            json += (rank == 0 ? "\n      " : ",\n      ") + jsonQuoted(pair)
        }
        json += merges.isEmpty ? "]\n  }\n}\n" : "\n    ]\n  }\n}\n"
        return Data(json.utf8)
    }

    // MARK: - Reading

    private struct File: Decodable {
        struct AddedToken: Decodable { var id: Int; var content: String }
        struct Component: Decodable {
            var type: String?
            var addPrefixSpace: Bool?
            var useRegex: Bool?
            enum CodingKeys: String, CodingKey {
                case type, addPrefixSpace = "add_prefix_space", useRegex = "use_regex"
            }
        }
        struct Model: Decodable {
            var type: String?
            var vocab: [String: Int]
            var merges: Merges
            var continuingSubwordPrefix: String?
            var endOfWordSuffix: String?
            enum CodingKeys: String, CodingKey {
                case type, vocab, merges
                case continuingSubwordPrefix = "continuing_subword_prefix", endOfWordSuffix = "end_of_word_suffix"
            }
        }
        /// "left right" strings (GPT-2, older files) or [left, right] pairs (newer files).
        struct Merges: Decodable {
            var pairs: [(String, String)?]
            init(from decoder: Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let strings = try? container.decode([String].self) {
                    pairs = strings.map { line in
                        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                        return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
                    }
                } else {
                    pairs = try container.decode([[String]].self).map { $0.count == 2 ? ($0[0], $0[1]) : nil }
                }
            }
        }
        var addedTokens: [AddedToken]?
        var normalizer: Component?
        var preTokenizer: Component?
        var model: Model
        enum CodingKeys: String, CodingKey {
            case addedTokens = "added_tokens", normalizer, preTokenizer = "pre_tokenizer", model
        }
    }

    /// How text is split before merging, as a tokenizer.json's components say (read and checked by
    /// HuggingFaceTokenizer, which knows more pre-tokenizers than this file's own check).
    public struct PreTokenization: Equatable, Sendable {
        /// The pattern that cuts text into pieces.
        public var splitPattern: SplitPattern
        /// A space before each text segment that does not start with one (ByteLevel's option).
        public var addPrefixSpace: Bool
        /// A piece that is a whole vocabulary entry is that token, merges or not (Llama 3).
        public var ignoreMerges: Bool
    }

    /// Parses a Hugging Face tokenizer.json holding a byte-level BPE; `path` only names it in errors.
    /// Without `preTokenization` the file must be GPT-2's layout (ByteLevel pre-tokenizer, no
    /// normalizer); with it, its vocabulary and merges are read and its components taken as checked.
    public init(huggingFaceJSON data: Data, path: String, preTokenization: PreTokenization? = nil) throws {
        func fail(_ reason: String) -> TokenizerError { .malformed(path: path, reason: reason) }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw fail(FileIO.describe(error))
        }
        guard file.model.type == nil || file.model.type == "BPE" else {
            throw fail("model type '\(file.model.type!)' is not supported; only byte-level BPE is")
        }
        guard preTokenization != nil || file.normalizer == nil else {
            throw fail("normalizer '\(file.normalizer?.type ?? "?")' is not supported; byte-level BPE files have none")
        }
        let preTokenizer = file.preTokenizer
        guard preTokenization != nil || (preTokenizer?.type == "ByteLevel" && preTokenizer?.useRegex ?? true) else {
            throw fail("pre_tokenizer must be ByteLevel with GPT-2's regex, got '\(file.preTokenizer?.type ?? "null")'")
        }
        guard (file.model.continuingSubwordPrefix ?? "").isEmpty, (file.model.endOfWordSuffix ?? "").isEmpty else {
            throw fail("continuing_subword_prefix and end_of_word_suffix are not supported")
        }
        let added = file.addedTokens ?? []
        let size = max(file.model.vocab.values.max() ?? -1, added.map(\.id).max() ?? -1) + 1
        guard size > 0 else { throw fail("the vocabulary is empty") }
        var strings = [String?](repeating: nil, count: size)
        var specials: [SpecialToken] = []
        for token in added {
            guard token.id >= 0 else { throw fail("added token \(token.content.debugDescription) has a negative id") }
            strings[token.id] = token.content
            specials.append(SpecialToken(content: token.content, id: Int32(token.id)))
        }
        let specialIDs = Set(added.map(\.id))
        var tokenBytes = [[UInt8]](repeating: [], count: size)
        for (text, id) in file.model.vocab {
            guard id >= 0 else { throw fail("vocab entry \(text.debugDescription) has a negative id") }
            if specialIDs.contains(id) { continue }
            if let other = strings[id] {
                throw fail("id \(id) is used by both \(other.debugDescription) and \(text.debugDescription)")
            }
            guard let bytes = ByteLevel.decode(text) else {
                throw fail("vocab entry \(text.debugDescription) is not a byte-level string")
            }
            strings[id] = text
            tokenBytes[id] = bytes
        }
        for special in specials { tokenBytes[Int(special.id)] = Array(special.content.utf8) }
        if let gap = strings.firstIndex(where: { $0 == nil }) {
            throw fail("no token has id \(gap) (ids must be 0..<\(size) without gaps)")
        }
        var merges: [Merge] = []
        merges.reserveCapacity(file.model.merges.pairs.count)
        for (rank, pair) in file.model.merges.pairs.enumerated() {
            guard let (left, right) = pair else { throw fail("merges[\(rank)] is not a pair of tokens") }
            guard let leftID = file.model.vocab[left], let rightID = file.model.vocab[right] else {
                throw fail("merges[\(rank)] (\(left) \(right)) uses a token that is not in the vocab")
            }
            merges.append(Merge(Int32(leftID), Int32(rightID)))
        }
        do {
            try self.init(tokenBytes: tokenBytes, merges: merges, specialTokens: specials,
                          addPrefixSpace: preTokenization?.addPrefixSpace ?? preTokenizer?.addPrefixSpace ?? false,
                          splitPattern: preTokenization?.splitPattern ?? .gpt2,
                          ignoreMerges: preTokenization?.ignoreMerges ?? false)
        } catch let TokenizerError.malformed(_, reason) {
            throw fail(reason)
        }
    }
}
