// What we do not implement is refused in one line that names it, never ignored: each case takes a
// fixture's real tokenizer.json, changes one component to something we cannot honour, and checks
// the message names the file and that component.

import Foundation
import Testing
import TestSupport
@testable import Tokenizers

@Suite struct HuggingFaceRefusalTests {
    /// A fixture's tokenizer.json with `key` (a top-level key, or "model.KEY") set to `json`, and
    /// any further such changes.
    static func file(_ fixture: String, setting key: String, to json: String, and more: [String: String] = [:]) throws -> String {
        let path = HuggingFaceFixtures.tokenizerDirectory(fixture) + "/tokenizer.json"
        var root = try HuggingFaceFixtures.json(path)
        for (key, json) in more.merging([key: json], uniquingKeysWith: { $1 }) {
            let value = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
            if key.hasPrefix("model.") {
                var model = root["model"] as! [String: Any]
                model[String(key.dropFirst(6))] = value
                root["model"] = model
            } else {
                root[key] = value
            }
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: root), as: UTF8.self)
    }

    static let llama = "llama-metaspace", llama3 = "llama3-byte-level"

    @Test(arguments: [
        (llama, "normalizer", #"{"type": "NFC"}"#, "normalizer 'NFC' is not supported"),
        (llama, "normalizer", #"{"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Lowercase"}]}"#,
         "normalizer 'Lowercase' is not supported"),
        (llama, "normalizer", #"{"type": "Replace", "pattern": {"Regex": " +"}, "content": "▁"}"#,
         #"normalizer Replace with the regex " +" is not supported"#),
        (llama, "pre_tokenizer", #"{"type": "Whitespace"}"#, "'Whitespace' is not supported"),
        (llama3, "pre_tokenizer", #"{"type": "Sequence", "pretokenizers": [{"type": "Punctuation"}, {"type": "ByteLevel", "use_regex": true}]}"#,
         "got a Sequence of Punctuation, ByteLevel"),
        (llama3, "pre_tokenizer", #"{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\p{N}"}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "use_regex": false}]}"#,
         #"pre_tokenizer Split pattern "\\p{N}" is not supported"#),
        (llama3, "pre_tokenizer", #"{"type": "ByteLevel", "use_regex": false}"#, "ByteLevel with use_regex false needs a Split"),
        (llama, "model.type", #""Unigram""#, "model type 'Unigram' is not supported; only BPE is"),
        (llama, "model.dropout", "0.1", "model.dropout"),
        (llama, "model.continuing_subword_prefix", "\"##\"", "model.continuing_subword_prefix \"##\" is not supported"),
        (llama, "post_processor", #"{"type": "BertProcessing", "sep": ["</s>", 2], "cls": ["<s>", 1]}"#,
         "post_processor 'BertProcessing' is not supported"),
        (llama, "decoder", ###"{"type": "WordPiece", "prefix": "##"}"###, "decoder 'WordPiece' is not supported"),
        (llama, "truncation", #"{"max_length": 8, "strategy": "LongestFirst", "stride": 0, "direction": "Right"}"#,
         "truncation is not supported"),
        (llama, "added_tokens", #"[{"id": 0, "content": "<unk>", "special": true, "lstrip": true}]"#,
         #"added token "<unk>" has lstrip: true, which is not supported"#),
        (llama, "model.unk_token", #""<missing>""#, #"model.unk_token "<missing>" is not in the vocabulary"#),
    ])
    func unsupportedComponentsAreRefusedByName(fixture: String, key: String, json: String, expected: String) throws {
        let path = "/models/\(fixture)/tokenizer.json"
        let contents = try Self.file(fixture, setting: key, to: json)
        do {
            _ = try TokenizerFile.load(jsonData: Data(contents.utf8), path: path)
            Issue.record("loaded a tokenizer.json with \(key) = \(json)")
        } catch {
            let message = "\(error)"
            #expect(message.hasPrefix(path + ": "), "\(message)")
            #expect(message.contains(expected), "\(message)")
            #expect(!message.contains("\n"), "\(message)")
        }
    }

    /// The same normalizer with tokens matched after normalization would need a second matching
    /// pass we do not have.
    @Test func normalizedAddedTokensWithANormalizerAreRefused() throws {
        let contents = try Self.file("llama2-legacy", setting: "added_tokens",
                                     to: #"[{"id": 0, "content": "<unk>", "special": false, "normalized": true}]"#)
        #expect(throws: TokenizerError.self) { try TokenizerFile.load(jsonData: Data(contents.utf8), path: "t.json") }
    }

    @Test func byteFallbackNeedsAllByteTokens() throws {
        let contents = try Self.file("llama-metaspace", setting: "model.byte_fallback", to: "true")
        _ = try TokenizerFile.load(jsonData: Data(contents.utf8), path: "t.json")  // the fixture has them all
        let withoutBytes = try Self.file("metaspace-always-split", setting: "model.vocab",
                                         to: #"{"<unk>": 0, "<s>": 1, "</s>": 2, "a": 3}"#, and: ["model.merges": "[]"])
        do {
            _ = try TokenizerFile.load(jsonData: Data(withoutBytes.utf8), path: "t.json")
            Issue.record("loaded byte_fallback without byte tokens")
        } catch {
            #expect("\(error)".contains("byte_fallback is on but the vocabulary has no token <0x00>"), "\(error)")
        }
    }
}
