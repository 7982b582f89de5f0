// Byte-level BPE: the trainer's merges on corpora worked out by hand, round trips of random Unicode
// and arbitrary bytes, special tokens, chunked encoding, and bad vocabulary sizes.

import Compute
import Foundation
import Testing
import TestSupport
@testable import Tokenizers

@Suite struct BPETokenizerTests {
    /// Merges as byte strings, e.g. ["u", "g"].
    static func mergeStrings(_ tokenizer: BPETokenizer) -> [[String]] {
        tokenizer.merges.map { [$0.left, $0.right].map { String(decoding: tokenizer.tokenBytes[Int($0)], as: UTF8.self) } }
    }

    @Test func mergesOnOneWordFollowTheCountsByHand() throws {
        // "aaabdaaabac": aa occurs 4 times (overlapping) -> Z; "ZabdZabac": Za and ab tie at 2, and
        // the smaller pair (a, b) wins -> Y; "ZYdZYac": ZY occurs twice -> X.
        let tokenizer = try BPETrainer.train(text: "aaabdaaabac", vocabularySize: 259, specialTokens: [])
        #expect(Self.mergeStrings(tokenizer) == [["a", "a"], ["a", "b"], ["aa", "ab"]])
        #expect(tokenizer.tokenBytes[256 ..< 259].map { String(decoding: $0, as: UTF8.self) } == ["aa", "ab", "aaab"])
        #expect(try tokenizer.encode("aaabdaaabac") == [258, 100, 258, 97, 99])
    }

    @Test func mergesWeighPiecesByTheirCounts() throws {
        // Pieces "hug", " hug", " pug": (u, g) occurs 3 times; then (h, ug) twice; then ( , hug),
        // ( , p) and (p, ug) once each, and the tie goes to the smallest ids: (32, 112) = " p".
        let tokenizer = try BPETrainer.train(text: "hug hug pug", vocabularySize: 260, specialTokens: [])
        #expect(Self.mergeStrings(tokenizer) == [["u", "g"], ["h", "ug"], [" ", "p"], [" ", "hug"]])
        #expect(try tokenizer.encode(" hug pug") == [259, 258, 256])
    }

    @Test func trainingStopsWhenNothingIsLeftToMerge() throws {
        let tokenizer = try BPETrainer.train(text: "ab ab", vocabularySize: 1000)
        // Pieces "ab", " ab": (a, b) then ( , ab); then the special token.
        #expect(Self.mergeStrings(tokenizer) == [["a", "b"], [" ", "ab"]])
        #expect(tokenizer.vocabularySize == 259)
        #expect(tokenizer.specialTokenID(BPETokenizer.endOfText) == 258)
    }

    static let trained: BPETokenizer = {
        let corpus = RandomText.strings(count: 400, seed: 1).joined(separator: "\n")
            + String(repeating: "To be, or not to be, that is the question.\n", count: 20)
        return try! BPETrainer.train(text: corpus, vocabularySize: 600)
    }()

    @Test(arguments: [2, 3, 4])
    func randomUnicodeRoundTrips(seed: UInt64) throws {
        let tokenizer = Self.trained
        for text in RandomText.strings(count: 200, seed: seed) {
            let tokens = try tokenizer.encode(text)
            #expect(tokens.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabularySize })
            #expect(tokenizer.decode(tokens) == text)
        }
    }

    @Test(arguments: ["char", "word", "bpe"])
    func everyKindRoundTripsRandomUnicodeItWasBuiltFrom(kind: String) throws {
        let texts = RandomText.strings(count: 150, seed: 31)
        var counts = PieceCounts()
        for text in texts { counts.merge(PieceCounts.count(text)) }
        let tokenizer: any Tokenizer = switch kind {
        case "char": try CharTokenizer(corpus: texts.joined())
        case "word": try WordTokenizer(counts: counts)
        default: try BPETrainer.train(counts: counts, vocabularySize: 700)
        }
        for text in texts { #expect(tokenizer.decode(try tokenizer.encode(text)) == text) }
    }

    @Test func arbitraryBytesRoundTrip() {
        let tokenizer = Self.trained
        for seed in 0..<20 as Range<UInt64> {
            let bytes = RandomText.bytes(count: Int(seed) * 37, seed: seed)
            #expect(tokenizer.decodeBytes(tokenizer.encode(bytes: bytes)) == bytes)
        }
    }

    @Test func mergesShortenTheCorpusTheyWereLearnedFrom() throws {
        let text = String(repeating: "To be, or not to be, that is the question.\n", count: 5)
        let tokens = try Self.trained.encode(text)
        #expect(tokens.count * 3 < text.utf8.count)
    }

    @Test func specialTokensAreMatchedBeforePreTokenisation() throws {
        let tokenizer = Self.trained
        let eot = try #require(tokenizer.specialTokenID(BPETokenizer.endOfText))
        let tokens = try tokenizer.encode("be<|endoftext|>to<|endoftext|>")
        #expect(tokens.filter { $0 == eot }.count == 2)
        #expect(tokens.last == eot)
        #expect(try tokens == tokenizer.encode("be") + [eot] + tokenizer.encode("to") + [eot])
        #expect(tokenizer.decode(tokens) == "be<|endoftext|>to<|endoftext|>")
        // Not a special token: "<|endoftext" without its end is ordinary text.
        #expect(try !tokenizer.encode("<|endoftext").contains(eot))
    }

    @Test(arguments: [1, 5, 17, 100])
    func chunkedEncodingGivesTheSameTokens(chunkSize: Int) throws {
        let tokenizer = Self.trained
        let text = RandomText.strings(count: 40, seed: 9).joined(separator: "<|endoftext|>")
        let bytes = Array(text.utf8)
        var tokens: [Int32] = [], pending: [UInt8] = [], offset = 0
        while true {
            let next = bytes[offset ..< min(bytes.count, offset + chunkSize)]
            offset += next.count
            pending += next
            let isFinal = offset == bytes.count
            let consumed = pending.withUnsafeBufferPointer { tokenizer.encodeChunk($0, isFinal: isFinal, into: &tokens) }
            pending.removeFirst(consumed)
            if isFinal { break }
        }
        #expect(pending.isEmpty)
        #expect(try tokens == tokenizer.encode(text))
    }

    @Test func vocabularyBelowTheByteAlphabetIsRefused() {
        #expect(throws: TokenizerError.invalidVocabularySize(requested: 200, minimum: 257, reason: "256 byte tokens + 1 special")) {
            try BPETrainer.train(text: "some text", vocabularySize: 200)
        }
        let message = "\(TokenizerError.invalidVocabularySize(requested: 200, minimum: 257, reason: "256 byte tokens + 1 special"))"
        #expect(message.contains("200") && message.contains("257") && !message.contains("\n"))
        #expect(throws: TokenizerError.emptyCorpus) { try BPETrainer.train(text: "", vocabularySize: 300) }
    }
}
