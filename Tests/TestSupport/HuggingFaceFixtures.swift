// The committed Hugging Face oracle (Tests/Fixtures/HuggingFace, made by scripts/make-hf-fixtures):
// where it is, found from this file's own path (no bundle resources), and its JSON files read.
// Shared by TokenizersTests (the tokenizer fixtures) and GPTTests (the model fixtures); what reads
// a fixture as a tokenizer is in TokenizersTests, so this target needs no module but Foundation.

import Foundation

public enum HuggingFaceFixtures {
    /// Tests/Fixtures/HuggingFace.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/HuggingFace").path

    public static let tokenizerNames = ["gpt2-byte-level", "gpt2-prefix-space", "smollm-digits", "llama3-byte-level",
                                        "llama2-legacy", "llama-metaspace", "metaspace-always-split", "metaspace-never-eos"]
    public static let modelNames = ["gpt2-tied-f32", "gpt2-untied-f16", "llama-tied-f32", "llama-gqa-bf16",
                                    "llama-mqa-bias-sharded"]

    public static func tokenizerDirectory(_ name: String) -> String { root + "/tokenizers/" + name }
    public static func modelDirectory(_ name: String) -> String { root + "/models/" + name }

    /// The text the fixture tokenizers were trained on (Shakespeare, then many scripts).
    public static func corpus() throws -> String {
        try String(contentsOfFile: root + "/corpus.txt", encoding: .utf8)
    }

    /// A JSON file of the fixture folder as a dictionary.
    public static func json(_ path: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        guard let dictionary = object as? [String: Any] else { throw FixtureError(description: "\(path) is not an object") }
        return dictionary
    }

    /// A fixture file that is not what its reader expects.
    public struct FixtureError: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }
}
