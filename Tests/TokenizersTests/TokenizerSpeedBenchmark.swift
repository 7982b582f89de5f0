// Encoding speed of the Hugging Face tokenizer kinds against today's GPT-2 byte-level BPE, on the
// same text in one run (ratios are what a shared machine can measure), and Llama 3's hand-written
// split against Swift's Regex with the same pattern. Not a unit test: it runs only when
// GPT_TOKENIZER_BENCH is set (scripts/bench-tokenizers does that on an optimized build) and asserts
// nothing but that the two splitters agree.

import Foundation
import Testing
import TestSupport
@testable import Tokenizers

@Suite(.serialized) struct TokenizerSpeedBenchmark {
    static let enabled = ProcessInfo.processInfo.environment["GPT_TOKENIZER_BENCH"] != nil

    /// data/shakespeare.txt when present (4.8 MB), else the fixture corpus repeated to 2 MB; and the
    /// corpus' multilingual half repeated to 1 MB.
    static func texts() throws -> [(name: String, text: String)] {
        let repository = URL(fileURLWithPath: HuggingFaceFixtures.root).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
        let corpus = try HuggingFaceFixtures.corpus()
        let english = (try? String(contentsOfFile: repository + "/data/shakespeare.txt", encoding: .utf8))
            ?? String(repeating: corpus, count: 2_000_000 / corpus.utf8.count)
        let multilingual = String(corpus[corpus.range(of: "Notes for the test corpus")!.lowerBound...])
        return [("english", english), ("multilingual", String(repeating: multilingual, count: 1_000_000 / multilingual.utf8.count))]
    }

    static func megabytesPerSecond(_ bytes: Int, _ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Double(bytes) / 1e6 / seconds
    }

    @Test(.enabled(if: enabled))
    func encodingSpeedAgainstGPT2() throws {
        let gpt2Path = HuggingFaceFixtures.tokenizerDirectory("gpt2-byte-level") + "/tokenizer.json"
        let today = try TokenizerFile.load(jsonData: Data(contentsOf: URL(fileURLWithPath: gpt2Path)), path: gpt2Path)
        #expect(today is BPETokenizer)
        let kinds: [(String, any Tokenizer)] = [("gpt2 (today's BPETokenizer)", today)]
            + (try ["llama3-byte-level", "llama-metaspace", "metaspace-always-split", "llama2-legacy"].map { ($0, try HuggingFaceFixtures.tokenizer($0)) })
        for (textName, text) in try Self.texts() {
            // Three rounds, each kind once per round, best of each: load changes on a shared
            // machine then hit every kind alike. Fresh tokenizers each round, so caches start cold.
            var best = [Double](repeating: 0, count: kinds.count)
            for _ in 0..<3 {
                for (index, (name, _)) in kinds.enumerated() {
                    let tokenizer = name.hasPrefix("gpt2") ? try TokenizerFile.load(jsonData: Data(contentsOf: URL(fileURLWithPath: gpt2Path)), path: gpt2Path)
                        : try HuggingFaceFixtures.tokenizer(name)
                    best[index] = max(best[index], try Self.megabytesPerSecond(text.utf8.count) { _ = try tokenizer.encode(text) })
                }
            }
            for (index, (name, _)) in kinds.enumerated() {
                print("bench encode \(textName) \(text.utf8.count) bytes: \(name) \(String(format: "%.2f", best[index])) MB/s, "
                      + "\(String(format: "%.2f", best[index] / best[0]))x gpt2 (best of 3)")
            }
        }
    }

    @Test(.enabled(if: enabled))
    func llama3SplitAgainstSwiftRegex() throws {
        let regex = try Regex(SplitPattern.llama3.regex!).matchingSemantics(.unicodeScalar)
        for (textName, full) in try Self.texts() {
            let text = String(full.unicodeScalars.prefix(300_000))
            var ours: [Substring] = []
            let handRate = Self.megabytesPerSecond(text.utf8.count) {
                ours = Llama3PreTokenizer.pieces(of: text).map { Substring($0) }
            }
            var theirs: [Substring] = []
            let regexRate = Self.megabytesPerSecond(text.utf8.count) {
                theirs = text.matches(of: regex).map { text[$0.range] }
            }
            #expect(ours.count == theirs.count && zip(ours, theirs).allSatisfy { $0.unicodeScalars.elementsEqual($1.unicodeScalars) })
            print("bench split \(textName) \(text.utf8.count) bytes: hand-written \(String(format: "%.2f", handRate)) MB/s, "
                  + "Swift Regex \(String(format: "%.3f", regexRate)) MB/s, \(String(format: "%.0f", handRate / regexRate))x")
        }
    }
}
