// The tokenizer fixtures read as tests use them: each input with the `tokenizers` library's ids and
// decoded text (cases.json), and the fixture's tokenizer loaded as a checkpoint's would be.

import Foundation
import TestSupport
import Tokenizers

extension HuggingFaceFixtures {
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
}
