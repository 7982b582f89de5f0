// The hand-written split patterns against the `tokenizers` library's own pre-tokenizer (pieces
// stored in the byte-level fixtures, 380 inputs each), then Llama 3's rules one by one, each
// case taken from what the library does, and streaming: a chunk's end never changes a piece.

import Testing
import TestSupport
@testable import Tokenizers

@Suite struct SplitPatternTests {
    static func pieces(_ pattern: SplitPattern, _ text: String) -> [String] {
        var copy = text
        return copy.withUTF8 { bytes in
            var result: [String] = []
            _ = pattern.forEachPiece(in: bytes, endingBy: bytes.count) { range in
                result.append(ByteLevel.encode(UnsafeBufferPointer(rebasing: bytes[range])))
            }
            return result
        }
    }

    @Test(arguments: [("gpt2-byte-level", SplitPattern.gpt2), ("smollm-digits", .gpt2IndividualDigits),
                      ("llama3-byte-level", .llama3)])
    func piecesEqualTheLibrarys(fixture: String, pattern: SplitPattern) throws {
        var mismatches = 0
        for item in try HuggingFaceFixtures.cases(fixture).cases {
            let expected = try #require(item.pieces, "\(fixture) stores no pieces")
            let ours = Self.pieces(pattern, item.text)
            if ours != expected {
                mismatches += 1
                if mismatches <= 5 { Issue.record("\(pattern): \(item.text.debugDescription.prefix(80)): ours \(ours.prefix(12)), library \(expected.prefix(12))") }
            }
        }
        #expect(mismatches == 0)
    }

    @Test(arguments: [
        ("'S 'Re 'rE 'LL x'D", ["'S", " '", "Re", " '", "rE", " '", "LL", " x", "'D"]),  // any ASCII case
        ("'ſa 'ſ", ["'ſ", "a", " '", "ſ"]),  // the long s case-folds to s; after a space the ' goes with it
        ("!hello  world\n\n  x", ["!hello", " ", " world", "\n\n", " ", " x"]),
        ("a \t\n b", ["a", " \t\n", " b"]),  // whitespace up to its last line break
        ("12345 1 22", ["123", "45", " ", "1", " ", "22"]),  // digits by three, no leading space
        ("\u{A0}\u{A0}x", ["\u{A0}", "\u{A0}x"]),
        ("x\u{301}y", ["x", "\u{301}y"]),  // a combining mark is not a letter
        ("a\r\n\r\nb", ["a", "\r\n\r\n", "b"]),
        ("!!!\n\nfoo", ["!!!\n\n", "foo"]),  // punctuation takes the line breaks after it
        ("   ", ["   "]),
    ])
    func llama3Rules(text: String, expected: [String]) {
        #expect(Llama3PreTokenizer.pieces(of: text) == expected)
    }

    /// Text cut anywhere into a non-final chunk and the rest: the pieces before the returned offset
    /// plus those of the rest are the pieces of the whole (whitespace runs with line breaks
    /// included, which look arbitrarily far ahead).
    @Test(arguments: [SplitPattern.gpt2, .llama3, .gpt2IndividualDigits, .gpt2DigitRuns])
    func aChunkEndNeverChangesAPiece(pattern: SplitPattern) {
        let texts = RandomText.strings(count: 200, seed: 77) + ["a\n" + String(repeating: " ", count: 40) + "\nb", "x 12 345\u{663}67 y  8"]
        for text in texts {
            let bytes = Array(text.utf8)
            let whole = Self.pieces(pattern, text)
            for cut in stride(from: 0, through: bytes.count, by: max(1, bytes.count / 7)) {
                var pieces: [String] = []
                let consumed = bytes[..<cut].withUnsafeBufferPointer { chunk in
                    pattern.forEachPiece(in: chunk, endingBy: chunk.count - PreTokenizer.streamingMargin) {
                        pieces.append(ByteLevel.encode(chunk[$0]))
                    }
                }
                bytes[consumed...].withUnsafeBufferPointer { rest in
                    _ = pattern.forEachPiece(in: rest, endingBy: rest.count) { pieces.append(ByteLevel.encode(rest[$0])) }
                }
                #expect(pieces == whole, "\(pattern) cut at \(cut) of \(text.debugDescription)")
            }
        }
    }
}

extension SplitPatternTests {
    @Test func digitsSplitBeforeGPT2sPattern() {
        #expect(SplitPattern.gpt2IndividualDigits.pieces(of: "x 12 ab3") == ["x", " ", "1", "2", " ab", "3"])
        #expect(SplitPattern.gpt2DigitRuns.pieces(of: "x 12 ab3") == ["x", " ", "12", " ab", "3"])
    }

    /// A tokenizer built with another pattern writes a tokenizer.json that reads back with it.
    @Test(arguments: [SplitPattern.llama3, .gpt2IndividualDigits, .gpt2DigitRuns])
    func writtenPatternsReadBack(pattern: SplitPattern) throws {
        let trained = BPETokenizerTests.trained
        let tokenizer = try BPETokenizer(tokenBytes: trained.tokenBytes, merges: trained.merges, specialTokens: trained.specialTokens,
                                         splitPattern: pattern, ignoreMerges: pattern == .llama3)
        let loaded = try TokenizerFile.load(jsonData: tokenizer.jsonData(), path: "written.json")
        let text = "It's 2026: 12,345 words\n\n  and\tmore<|endoftext|>"
        #expect(try loaded.encode(text) == tokenizer.encode(text))
        #expect(loaded.kind == "bpe")
    }
}
