// Character tokenizer: vocabulary from the corpus, round trips, one-line errors, JSON save/load.

import Foundation
import Testing
@testable import Tokenizers

@Suite struct TokenizerTests {
    @Test func vocabularyIsSortedUniqueScalars() throws {
        let tokenizer = try CharTokenizer(corpus: "hello, world\né")
        #expect(tokenizer.characters.map { String($0) } == ["\n", " ", ",", "d", "e", "h", "l", "o", "r", "w", "é"])
        #expect(tokenizer.vocabularySize == 11)
    }

    @Test(arguments: ["ROMEO:\nBut soft!", "", "é\u{301}\r\n"])
    func encodeDecodeRoundTrips(text: String) throws {
        let tokenizer = try CharTokenizer(corpus: "ROMEO:\nBut soft! é\u{301}\r")
        let tokens = try tokenizer.encode(text)
        #expect(tokens.count == text.unicodeScalars.count)
        #expect(tokens.allSatisfy { (0..<Int32(tokenizer.vocabularySize)).contains($0) })
        #expect(tokenizer.decode(tokens) == text)
    }

    @Test func unknownCharacterNamesItAndItsPosition() throws {
        let tokenizer = try CharTokenizer(corpus: "abc")
        #expect(throws: TokenizerError.unknownCharacter("z", position: 2, vocabularySize: 3)) {
            try tokenizer.encode("abzc")
        }
        let message = "\(TokenizerError.unknownCharacter("z", position: 2, vocabularySize: 3))"
        #expect(message.contains("\"z\"") && message.contains("U+007A") && message.contains("position 2"))
        #expect(!message.contains("\n"))
    }

    @Test func emptyCorpusIsRefused() {
        #expect(throws: TokenizerError.emptyCorpus) { try CharTokenizer(corpus: "") }
    }

    @Test func saveAndLoadGiveTheSameTokenizer() throws {
        let tokenizer = try CharTokenizer(corpus: "To be, or not to be: \"that\" is the question.\n\t\\é🙂")
        let path = NSTemporaryDirectory() + "tokenizer-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TokenizerFile.save(tokenizer, to: path)
        let loaded = try TokenizerFile.load(from: path)
        #expect((loaded as? CharTokenizer) == tokenizer)
        let text = "question: 🙂"
        #expect(try loaded.encode(text) == tokenizer.encode(text))
    }

    @Test(arguments: [
        ("{not json", "not valid JSON"),
        (#"{"type": "char"}"#, "missing key 'characters'"),
        (#"{"type": "char", "characters": "abc"}"#, "'characters' has the wrong type"),
        (#"{"type": "char", "characters": ["a", "bc"]}"#, "characters[1]"),
        (#"{"type": "char", "characters": ["a", "a"]}"#, "appears twice"),
        (#"{"type": "char", "characters": []}"#, "empty"),
        (#"{"type": "bpe", "merges": []}"#, "unknown tokenizer type 'bpe'"),
    ])
    func malformedFilesAreRefusedClearly(contents: String, expected: String) throws {
        let path = NSTemporaryDirectory() + "tokenizer-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try TokenizerFile.load(from: path)
            Issue.record("loaded a malformed tokenizer file")
        } catch {
            let message = "\(error)"
            #expect(message.contains(path))
            #expect(message.contains(expected), "\(message)")
            #expect(!message.contains("\n"))
        }
    }
}
