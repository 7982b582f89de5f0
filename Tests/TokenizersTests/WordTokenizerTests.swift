// Word tokenizer: pieces as tokens, the vocabulary capped by frequency, <unk> for the rest,
// random Unicode round trips when every piece is known, and JSON save/load.

import Compute
import Foundation
import Testing
import TestSupport
@testable import Tokenizers

@Suite struct WordTokenizerTests {
    @Test func vocabularyIsTheMostFrequentPiecesCappedBySize() throws {
        // Pieces: "the" x1, " cat" x2, " the" x2, "." x2, "\n" x1, " dog" x1.
        let tokenizer = try WordTokenizer(corpus: "the cat. the cat.\n the dog", vocabularySize: 5)
        // Ties by count go to the smaller bytes: " cat" < " the" < "." (space sorts first).
        #expect(tokenizer.words == ["<unk>", " cat", " the", ".", "\n"])
        #expect(try tokenizer.encode("the cat.") == [0, 1, 3])
        #expect(try tokenizer.encode(" the dog") == [2, 0])
        #expect(tokenizer.decode([2, 1, 3]) == " the cat.")
        #expect(tokenizer.decode([0]) == "<unk>")
    }

    @Test(arguments: [7, 8])
    func randomUnicodeRoundTripsWhenEveryPieceIsKnown(seed: UInt64) throws {
        let texts = RandomText.strings(count: 200, seed: seed)
        // Counted text by text: joined, the pieces at the seams would differ.
        var counts = PieceCounts()
        for text in texts { counts.merge(PieceCounts.count(text)) }
        let tokenizer = try WordTokenizer(counts: counts)
        for text in texts {
            let tokens = try tokenizer.encode(text)
            #expect(!tokens.contains(WordTokenizer.unknownID))
            #expect(tokenizer.decode(tokens) == text)
        }
    }

    @Test func saveAndLoadGiveTheSameTokenizer() throws {
        let tokenizer = try WordTokenizer(corpus: RandomText.strings(count: 50, seed: 1).joined())
        let path = RandomText.temporaryPath("word") + ".json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TokenizerFile.save(tokenizer, to: path)
        let loaded = try #require(try TokenizerFile.load(from: path) as? WordTokenizer)
        #expect(loaded.words == tokenizer.words)
        #expect(loaded.kind == "word")
    }

    @Test(arguments: [
        (#"{"type": "word", "unknown": "<unk>", "words": ["the"]}"#, "must start with the unknown token"),
        (#"{"type": "word", "unknown": "<unk>", "words": ["<unk>", "a", "a"]}"#, "appears twice"),
        (#"{"type": "word", "words": []}"#, "missing key 'unknown'"),
    ])
    func malformedFilesAreRefused(contents: String, expected: String) throws {
        do {
            _ = try TokenizerFile.load(jsonData: Data(contents.utf8), path: "word.json")
            Issue.record("loaded a malformed file")
        } catch {
            #expect("\(error)".contains("word.json: not a valid tokenizer file"))
            #expect("\(error)".contains(expected), "\(error)")
        }
    }

    @Test func tooSmallVocabularyAndEmptyCorpusAreRefused() {
        #expect(throws: TokenizerError.self) { try WordTokenizer(corpus: "a b", vocabularySize: 1) }
        #expect(throws: TokenizerError.emptyCorpus) { try WordTokenizer(corpus: "") }
    }
}
