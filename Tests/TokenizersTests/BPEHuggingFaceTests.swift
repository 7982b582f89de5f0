// Hugging Face tokenizer.json: ours written then read back gives the same tokenizer and ids; a file
// in GPT-2's own layout (built here by hand: GPT-2's byte order and its first ten merges) loads and
// gives GPT-2's ids; broken files are refused with one line naming the file and the problem.

import Compute
import Foundation
import Testing
import TestSupport
@testable import Tokenizers

@Suite struct BPEHuggingFaceTests {
    @Test func writtenThenReadGivesTheSameIds() throws {
        let original = BPETokenizerTests.trained
        let path = RandomText.temporaryPath("tokenizer") + ".json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TokenizerFile.save(original, to: path)
        let loaded = try #require(try TokenizerFile.load(from: path) as? BPETokenizer)
        #expect(loaded.tokenBytes == original.tokenBytes)
        #expect(loaded.merges == original.merges)
        #expect(loaded.specialTokens == original.specialTokens)
        for text in RandomText.strings(count: 100, seed: 21) + ["<|endoftext|>To be<|endoftext|>"] {
            #expect(try loaded.encode(text) == original.encode(text))
        }
        let json = try String(contentsOfFile: path, encoding: .utf8)
        #expect(json.contains("\"type\": \"BPE\"") && json.contains("\"type\": \"ByteLevel\""))
        #expect(json.contains("\"content\": \"<|endoftext|>\""))
    }

    /// A tokenizer.json laid out like GPT-2's: ids 0...255 in bytes_to_unicode order ("!" is 0),
    /// GPT-2's first ten merges with their real ids 256...265, and <|endoftext|> after them.
    static func gpt2StyleJSON(mergesAsPairs: Bool = false) -> String {
        let printable = Array(33...126) + Array(161...172) + Array(174...255)
        let order = printable + (0...255).filter { !printable.contains($0) }
        var vocab = order.enumerated().map { (id, byte) in (ByteLevel.encode([UInt8(byte)]), id) }
        let merges = [("Ġ", "t"), ("Ġ", "a"), ("h", "e"), ("i", "n"), ("r", "e"), ("o", "n"), ("Ġt", "he"),
                      ("e", "r"), ("Ġ", "s"), ("a", "t")]
        for (index, merge) in merges.enumerated() { vocab.append((merge.0 + merge.1, 256 + index)) }
        vocab.append(("<|endoftext|>", 266))
        let vocabJSON = vocab.map { "\(jsonQuoted($0.0)): \($0.1)" }.joined(separator: ", ")
        let mergesJSON = merges.map {
            mergesAsPairs ? "[\(jsonQuoted($0.0)), \(jsonQuoted($0.1))]" : jsonQuoted($0.0 + " " + $0.1)
        }.joined(separator: ", ")
        return """
            {"version": "1.0", "truncation": null, "padding": null,
             "added_tokens": [{"id": 266, "special": true, "content": "<|endoftext|>", "single_word": false,
                               "lstrip": false, "rstrip": false, "normalized": true}],
             "normalizer": null,
             "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true},
             "post_processor": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false},
             "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true},
             "model": {"dropout": null, "unk_token": null, "continuing_subword_prefix": "", "end_of_word_suffix": "",
                       "fuse_unk": false, "vocab": {\(vocabJSON)}, "merges": [\(mergesJSON)]}}
            """
    }

    @Test(arguments: [false, true])
    func readsGPT2sLayout(mergesAsPairs: Bool) throws {
        let tokenizer = try TokenizerFile.load(jsonData: Data(Self.gpt2StyleJSON(mergesAsPairs: mergesAsPairs).utf8),
                                               path: "gpt2.json")
        #expect(tokenizer.vocabularySize == 267)
        // GPT-2 ids: "!" = 0, so ASCII c is c - 33; "Ġthe" = 262, "he" = 258, "Ġa" = 257, "at" = 265.
        #expect(try tokenizer.encode(" the") == [262])
        // "Ġ" (byte 32) is 220: the 188 printable bytes come first, then bytes 0...32.
        #expect(try tokenizer.encode("the cat") == [83, 258, 220, 66, 265])
        #expect(try tokenizer.encode("Hello<|endoftext|>") == [39, 68, 75, 75, 78, 266])
        #expect(tokenizer.decode([262, 257, 265]) == " the aat")
    }

    @Test(arguments: [
        ("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}, \"merges\": []}}", "model type 'WordPiece' is not supported"),
        ("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
         "no token for byte 0x0"),
        ("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\"]}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
         "merges[0] (a b) uses a token that is not in the vocab"),
        ("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, \"pre_tokenizer\": {\"type\": \"Whitespace\"}}",
         "pre_tokenizer must be ByteLevel"),
        ("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 2}, \"merges\": []}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
         "no token has id 1"),
        ("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a b\": 0}, \"merges\": []}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
         "is not a byte-level string"),
        ("{\"model\": {\"type\": \"BPE\", \"vocab\": [], \"merges\": []}}", "key 'model.vocab' has the wrong type"),
        ("{\"model\": ", "not valid JSON"),
        ("{\"kind\": \"bpe\"}", "missing key 'type'"),
    ])
    func brokenFilesAreRefusedInOneLine(contents: String, expected: String) throws {
        let path = RandomText.temporaryPath("broken") + ".json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try TokenizerFile.load(from: path)
            Issue.record("loaded a broken tokenizer file")
        } catch {
            let message = "\(error)"
            #expect(message.hasPrefix(path + ": not a valid tokenizer file: "), "\(message)")
            #expect(message.contains(expected), "\(message)")
            #expect(!message.contains("\n"))
        }
    }

    @Test func mergeOfTokensNotInTheVocabularyIsRefused() {
        let bytes = (0...255).map { [UInt8($0)] }
        #expect(throws: TokenizerError.self) {
            try BPETokenizer(tokenBytes: bytes, merges: [BPETokenizer.Merge(97, 98)])  // "ab" is not a token
        }
    }
}
