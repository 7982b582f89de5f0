// The committed Hugging Face oracle (Tests/Fixtures/HuggingFace, made by scripts/make-hf-fixtures):
// where it is, found from this file's own path (no bundle resources), and its files decoded.

import Foundation
@testable import GPT

enum HuggingFaceFixtures {
    /// Tests/Fixtures/HuggingFace.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/HuggingFace").path

    static let tokenizerNames = ["gpt2-byte-level", "gpt2-prefix-space", "smollm-digits", "llama3-byte-level", "llama2-legacy",
                                 "llama-metaspace", "metaspace-always-split", "metaspace-never-eos"]
    static let modelNames = ["gpt2-tied-f32", "gpt2-untied-f16", "llama-tied-f32", "llama-gqa-bf16", "llama-mqa-bias-sharded"]

    static func tokenizerDirectory(_ name: String) -> String { root + "/tokenizers/" + name }
    static func modelDirectory(_ name: String) -> String { root + "/models/" + name }

    /// One input and what `tokenizers` made of it.
    struct Case: Decodable {
        var text: String
        var ids: [Int32]
        var decoded: String
        /// The pre-tokenizer's pieces as byte-level strings (byte-level fixtures only).
        var pieces: [String]?
    }

    struct Cases: Decodable {
        var description: String
        var cases: [Case]
    }

    static func cases(_ name: String) throws -> Cases {
        try JSONDecoder().decode(Cases.self, from: Data(contentsOf: URL(fileURLWithPath: tokenizerDirectory(name) + "/cases.json")))
    }

    /// The fixture's tokenizer, read the way a checkpoint's is (with its companion files).
    static func tokenizer(_ name: String) throws -> any Tokenizer {
        try TokenizerFile.load(from: tokenizerDirectory(name) + "/tokenizer.json")
    }

    static func corpus() throws -> String {
        try String(contentsOfFile: root + "/corpus.txt", encoding: .utf8)
    }

    /// A JSON file of the fixture folder as a dictionary.
    static func json(_ path: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        guard let dictionary = object as? [String: Any] else { throw FixtureError(description: "\(path) is not an object") }
        return dictionary
    }

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
    }
}
