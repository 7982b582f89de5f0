// Every tokenizer fixture against the `tokenizers` library's own output: the same ids for every
// stored input (edge cases, the corpus by paragraph and whole, 300 random Unicode strings), the
// same decoded text, streaming in chunks equal to encoding at once, and lossless round trips where
// the kind is lossless. A mismatch names the fixture and the input.

import Foundation
import Testing
import TestSupport
@testable import Tokenizers

@Suite struct HuggingFaceTokenizerTests {
    static let names = HuggingFaceFixtures.tokenizerNames

    @Test(arguments: names)
    func idsEqualTheLibrarys(fixture: String) throws {
        let tokenizer = try HuggingFaceFixtures.tokenizer(fixture)
        var mismatches = 0
        for item in try HuggingFaceFixtures.cases(fixture).cases {
            let ids = try tokenizer.encode(item.text)
            if ids != item.ids {
                mismatches += 1
                if mismatches <= 5 {
                    Issue.record("\(fixture): \(item.text.debugDescription.prefix(120)): ours \(ids.prefix(40)), tokenizers \(item.ids.prefix(40))")
                }
            }
        }
        #expect(mismatches == 0, "\(fixture): \(mismatches) inputs encode differently")
    }

    @Test(arguments: names)
    func decodingEqualsTheLibrarys(fixture: String) throws {
        let tokenizer = try HuggingFaceFixtures.tokenizer(fixture)
        var mismatches = 0
        for item in try HuggingFaceFixtures.cases(fixture).cases where tokenizer.decode(item.ids) != item.decoded {
            mismatches += 1
            if mismatches <= 5 {
                let ours = tokenizer.decode(item.ids).debugDescription.prefix(120)
                Issue.record("\(fixture): decode of \(item.text.debugDescription.prefix(80)): ours \(ours), tokenizers \(item.decoded.debugDescription.prefix(120))")
            }
        }
        #expect(mismatches == 0, "\(fixture): \(mismatches) id lists decode differently")
    }

    /// Byte-level BPE loses nothing (without add_prefix_space); SentencePiece-style BPE loses a
    /// leading space under Metaspace's first/always schemes and turns a literal "▁" into a space,
    /// so it round-trips natural text that avoids both (the library does the same, as
    /// `decodingEqualsTheLibrarys` checks for every input). metaspace-always-split's decoder has
    /// no ByteFallback step, so byte tokens decode as their names, there and in the library.
    @Test(arguments: names.filter { !["gpt2-prefix-space", "metaspace-always-split"].contains($0) })
    func decodingRoundTripsWhereLossless(fixture: String) throws {
        let tokenizer = try HuggingFaceFixtures.tokenizer(fixture)
        let byteLevel = tokenizer.kind == BPETokenizer.typeName
        let specials = ["<s>", "</s>", "<unk>", "<|"]
        for item in try HuggingFaceFixtures.cases(fixture).cases {
            let lossless = byteLevel || (!item.text.unicodeScalars.contains("▁") && !specials.contains { item.text.contains($0) }
                                         && item.text.unicodeScalars.first.map { !$0.properties.isWhitespace } ?? false)
            guard lossless else { continue }
            let ids = try tokenizer.encode(item.text, addingSpecialTokens: false)
            #expect(tokenizer.decode(ids) == item.text, "\(fixture): \(item.text.debugDescription.prefix(80))")
            #expect(tokenizer.decodeBytes(ids) == Array(item.text.utf8) || !byteLevel, "\(fixture) bytes")
        }
    }

    /// `gpt prepare` encodes a corpus in chunks; the concatenated ids must not depend on where the
    /// chunks end (chunk sizes down to a few bytes, so cuts land everywhere).
    @Test(arguments: names)
    func chunkedEncodingEqualsWholeEncoding(fixture: String) throws {
        let tokenizer = try HuggingFaceFixtures.tokenizer(fixture)
        let cases = try HuggingFaceFixtures.cases(fixture).cases
        let text = try HuggingFaceFixtures.corpus() + cases.suffix(60).map(\.text).joined(separator: " ")
        let whole = try tokenizer.encode(text, addingSpecialTokens: false)
        for chunkSize in [7, 61, 1000, 4096] {
            #expect(try Self.encodeInChunks(text, chunkSize: chunkSize, tokenizer) == whole, "\(fixture), chunks of \(chunkSize)")
        }
    }

    static func encodeInChunks(_ text: String, chunkSize: Int, _ tokenizer: any Tokenizer) throws -> [Int32] {
        let bytes = Array(text.utf8)
        var tokens: [Int32] = []
        var pending: [UInt8] = []
        var offset = 0
        while offset < bytes.count || !pending.isEmpty {
            let next = min(bytes.count, offset + chunkSize)
            pending += bytes[offset..<next]
            offset = next
            let isFinal = offset == bytes.count
            let consumed = try pending.withUnsafeBufferPointer { try tokenizer.encodeChunk($0, isFinal: isFinal, into: &tokens) }
            pending.removeFirst(consumed)
            if isFinal { break }
        }
        return tokens
    }

    @Test func kindsAreNamedByTheirModel() throws {
        // GPT-2's tokenizer.json alone has nothing around its ids: the BPETokenizer it always was.
        let gpt2 = HuggingFaceFixtures.tokenizerDirectory("gpt2-byte-level") + "/tokenizer.json"
        #expect(try TokenizerFile.load(jsonData: Data(contentsOf: URL(fileURLWithPath: gpt2)), path: gpt2) is BPETokenizer)
        #expect(try HuggingFaceFixtures.tokenizer("gpt2-byte-level").kind == "bpe")
        #expect(try HuggingFaceFixtures.tokenizer("llama3-byte-level").kind == "bpe")
        #expect(try HuggingFaceFixtures.tokenizer("llama-metaspace").kind == "sentencepiece-bpe")
        #expect(try HuggingFaceFixtures.tokenizer("llama2-legacy").kind == "sentencepiece-bpe")
    }

    /// A tokenizer read from a Hub file is written back byte for byte (checkpoints carry it).
    @Test(arguments: names)
    func writingGivesTheFileBack(fixture: String) throws {
        let tokenizer = try HuggingFaceFixtures.tokenizer(fixture)
        guard tokenizer is HuggingFaceTokenizer else { return }  // plain GPT-2 files are rewritten as today
        let original = try Data(contentsOf: URL(fileURLWithPath: HuggingFaceFixtures.tokenizerDirectory(fixture) + "/tokenizer.json"))
        #expect(try tokenizer.jsonData() == original)
    }
}
