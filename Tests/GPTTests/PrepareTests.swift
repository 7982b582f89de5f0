// `gpt prepare` as a library: prepare then load gives back the text, the split follows the
// fraction, small chunks give the same tokens as one pass, a vocabulary above 65,535 writes
// uint32, and bad input (empty, missing, too small a vocabulary, corrupted token files, broken
// tokenizer files) fails with one clear line.

import Foundation
import Testing
@testable import GPT
import TestSupport
import Tokenizers

@Suite struct PrepareTests {
    static func write(_ text: String) throws -> String {
        let path = RandomText.temporaryPath("corpus") + ".txt"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static let corpus = String(repeating: "First Citizen:\nBefore we proceed any further, hear me speak.\n\n"
                               + "All:\nSpeak, speak. Caf\u{E9} \u{65E5}\u{672C} \u{1F600}!\n\n", count: 60)

    /// Prepares `text` and reopens it; the caller removes the returned paths.
    static func prepareAndLoad(_ text: String, kind: String, vocabularySize: Int? = nil, fraction: Double = 0.1,
                               chunkBytes: Int = 8 << 20, context: Int = 8) throws -> (PreparedDataset, [String]) {
        let input = try write(text)
        let output = RandomText.temporaryPath("prepared")
        var options = PreparationOptions(inputs: [input], tokenizerKind: kind, vocabularySize: vocabularySize,
                                         validationFraction: fraction, outputDirectory: output)
        options.chunkBytes = chunkBytes
        try DataPreparation.prepare(options)
        return (try PreparedDataset(directory: output, contextLength: context), [input, output])
    }

    static func remove(_ paths: [String]) {
        for path in paths { try? FileManager.default.removeItem(atPath: path) }
    }

    @Test(arguments: [("char", nil), ("word", nil), ("bpe", 400)] as [(String, Int?)])
    func prepareThenLoadGivesBackTheText(kind: String, vocabularySize: Int?) throws {
        let (dataset, paths) = try Self.prepareAndLoad(Self.corpus, kind: kind, vocabularySize: vocabularySize)
        defer { Self.remove(paths) }
        #expect(dataset.metadata.tokenizer == kind && dataset.tokenizer.kind == kind)
        #expect(dataset.metadata.dtype == .uint16)
        let text = dataset.tokenizer.decode(try dataset.train.allTokens) + dataset.tokenizer.decode(try dataset.validation.allTokens)
        #expect(text == Self.corpus)
        #expect(dataset.metadata.sources.first?.bytes == Self.corpus.utf8.count)
        var hash = SHA256()
        hash.update(Array(Self.corpus.utf8))
        #expect(dataset.metadata.sources.first?.sha256 == hash.finalize())
        // Batches come from the token files: next-token targets, the same for the same seed.
        var batches = dataset.trainingBatches(batchSize: 3, seed: 5)
        let batch = try batches.next()
        #expect(batch.tokens.count == 3 * 8 && Array(batch.tokens[1..<8]) == Array(batch.targets[0..<7]))
        var again = dataset.trainingBatches(batchSize: 3, seed: 5)
        #expect(try again.next() == batch)
    }

    @Test(arguments: [0.1, 0.25, 0.5])
    func splitFollowsTheValidationFraction(fraction: Double) throws {
        let (dataset, paths) = try Self.prepareAndLoad(Self.corpus, kind: "char", fraction: fraction)
        defer { Self.remove(paths) }
        let validationText = dataset.tokenizer.decode(try dataset.validation.allTokens)
        let share = Double(validationText.utf8.count) / Double(Self.corpus.utf8.count)
        #expect(abs(share - fraction) < 0.001, "validation holds \(share) of the bytes")
        #expect(Self.corpus.hasSuffix(validationText))
    }

    @Test(arguments: ["char", "word", "bpe"])
    func smallChunksGiveTheSameTokensAsOnePass(kind: String) throws {
        let vocabulary = kind == "bpe" ? 300 : nil
        let (whole, wholePaths) = try Self.prepareAndLoad(Self.corpus, kind: kind, vocabularySize: vocabulary)
        defer { Self.remove(wholePaths) }
        let (chunked, chunkedPaths) = try Self.prepareAndLoad(Self.corpus, kind: kind, vocabularySize: vocabulary, chunkBytes: 7)
        defer { Self.remove(chunkedPaths) }
        #expect(try chunked.train.allTokens == whole.train.allTokens)
        #expect(try chunked.validation.allTokens == whole.validation.allTokens)
    }

    /// With several inputs the split point can fall inside the first file, inside the second, or on
    /// the boundary; every byte lands in exactly one split, in order.
    @Test(arguments: [0.05, 0.3, 0.5, 0.7, 0.95])
    func splitAcrossSeveralFiles(fraction: Double) throws {
        let first = String(repeating: "alpha beta\n", count: 50), second = String(repeating: "gamma delta\n", count: 50)
        let inputs = [try Self.write(first), try Self.write(second)]
        let output = RandomText.temporaryPath("prepared")
        defer { Self.remove(inputs + [output]) }
        try DataPreparation.prepare(PreparationOptions(inputs: inputs, tokenizerKind: "char",
                                                       validationFraction: fraction, outputDirectory: output))
        let dataset = try PreparedDataset(directory: output, contextLength: 4)
        func text(_ split: any TokenStorage) throws -> String {
            var tokens: [Int32] = []
            try split.appendTokens(from: 0, count: split.count, to: &tokens)
            return dataset.tokenizer.decode(tokens)
        }
        let train = try text(dataset.train), validation = try text(dataset.validation)
        #expect(train + validation == first + second)
        let expected = Double((first + second).utf8.count) * (1 - fraction)
        #expect(abs(Double(train.utf8.count) - expected) <= 1)
    }

    @Test func vocabularyAboveSixtyFiveThousandFiveHundredThirtyFiveWritesUInt32() throws {
        let text = (0..<70_000).map { "w\($0)" }.joined(separator: " ")
        let (dataset, paths) = try Self.prepareAndLoad(text, kind: "word", vocabularySize: 100_000)
        defer { Self.remove(paths) }
        #expect(dataset.tokenizer.vocabularySize > 65_535)
        #expect(dataset.metadata.dtype == .uint32)
        #expect(try dataset.train.allTokens.contains { $0 > 65_535 })
        #expect(try dataset.tokenizer.decode(dataset.train.allTokens + dataset.validation.allTokens) == text)
    }

    static func preparationError(_ options: PreparationOptions) -> String {
        do {
            try DataPreparation.prepare(options)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func badInputIsRefusedInOneLine() throws {
        let empty = try Self.write("")
        let text = try Self.write(Self.corpus)
        let output = RandomText.temporaryPath("prepared")
        defer { Self.remove([empty, text, output]) }
        let cases: [(PreparationOptions, String)] = [
            (PreparationOptions(inputs: [empty], tokenizerKind: "bpe", outputDirectory: output), "the input is empty"),
            (PreparationOptions(inputs: [text + ".missing"], tokenizerKind: "bpe", outputDirectory: output), "missing: no such file"),
            (PreparationOptions(inputs: [text], tokenizerKind: "bpe", vocabularySize: 100, outputDirectory: output),
             "vocabulary size 100 is too small: at least 257 needed"),
            (PreparationOptions(inputs: [text], tokenizerKind: "sentencepiece", outputDirectory: output), "unknown tokenizer"),
            (PreparationOptions(inputs: [text], tokenizerKind: "char", validationFraction: 1, outputDirectory: output),
             "validation fraction must be in (0, 1)"),
            (PreparationOptions(inputs: [text], tokenizerKind: "char", outputDirectory: text), "exists and is not a directory"),
        ]
        for (options, expected) in cases {
            let message = Self.preparationError(options)
            #expect(message.contains(expected), "\(message)")
            #expect(!message.contains("\n"))
        }
        let binary = RandomText.temporaryPath("binary") + ".txt"
        defer { Self.remove([binary]) }
        try Data([0x41, 0x42, 0xFF, 0x43]).write(to: URL(fileURLWithPath: binary))
        let message = Self.preparationError(PreparationOptions(inputs: [binary], tokenizerKind: "char", outputDirectory: output))
        #expect(message == "\(binary): not valid UTF-8 text (at byte 2)")
    }

    /// Issue 12, item 12: one rule for every tokenizer: random bytes are refused by word and bpe
    /// as by char (and train), naming the first bad byte, also across chunk boundaries.
    @Test(arguments: ["char", "word", "bpe"])
    func everyTokenizerRefusesBytesThatAreNotUTF8(kind: String) throws {
        let text = RandomText.temporaryPath("random") + ".txt", output = RandomText.temporaryPath("prepared")
        defer { Self.remove([text, output]) }
        var bytes = Array(String(repeating: "valid text é\n", count: 50).utf8)
        let bad = bytes.count - 7
        bytes[bad] = 0xC3  // a lead byte followed by ASCII
        try Data(bytes).write(to: URL(fileURLWithPath: text))
        for chunkBytes in [8 << 20, 5] {
            var options = PreparationOptions(inputs: [text], tokenizerKind: kind, outputDirectory: output)
            options.chunkBytes = chunkBytes
            #expect(Self.preparationError(options) == "\(text): not valid UTF-8 text (at byte \(bad))", "chunk \(chunkBytes)")
        }
        try Data(RandomText.bytes(count: 4096, seed: 9)).write(to: URL(fileURLWithPath: text))
        #expect(Self.preparationError(PreparationOptions(inputs: [text], tokenizerKind: kind, outputDirectory: output))
            .contains("not valid UTF-8 text (at byte "))
    }

    @Test func corruptedDirectoriesAreRefused() throws {
        let (_, paths) = try Self.prepareAndLoad(Self.corpus, kind: "char")
        defer { Self.remove(paths) }
        let directory = paths[1]
        // A token file whose size is not a whole number of tokens.
        let train = directory + "/train.bin"
        let original = try Data(contentsOf: URL(fileURLWithPath: train))
        try original.dropLast().write(to: URL(fileURLWithPath: train))
        #expect(throws: FileError.self) { try PreparedDataset(directory: directory, contextLength: 8) }
        do {
            _ = try PreparedDataset(directory: directory, contextLength: 8)
        } catch {
            #expect("\(error)".contains("not a whole number of uint16 tokens"), "\(error)")
        }
        // Whole tokens, but fewer than meta.json promises.
        try original.dropLast(2).write(to: URL(fileURLWithPath: train))
        do {
            _ = try PreparedDataset(directory: directory, contextLength: 8)
            Issue.record("opened a truncated train.bin")
        } catch {
            #expect("\(error)".contains("train.bin: holds"), "\(error)")
        }
        try original.write(to: URL(fileURLWithPath: train))
        // meta.json naming a file outside the directory.
        let meta = directory + "/meta.json", metaText = try String(contentsOfFile: meta, encoding: .utf8)
        try metaText.replacingOccurrences(of: "\"train.bin\"", with: "\"../train.bin\"")
            .write(toFile: meta, atomically: true, encoding: .utf8)
        #expect(throws: FileError(path: meta, reason: "names the file '../train.bin': expected a file name in the directory")) {
            try PreparedDataset(directory: directory, contextLength: 8)
        }
        try metaText.write(toFile: meta, atomically: true, encoding: .utf8)
        // A tokenizer file that does not parse.
        try Data("{\"type\": ".utf8).write(to: URL(fileURLWithPath: directory + "/tokenizer.json"))
        do {
            _ = try PreparedDataset(directory: directory, contextLength: 8)
            Issue.record("opened a directory with a broken tokenizer")
        } catch {
            #expect("\(error)" == "\(directory)/tokenizer.json: not a valid tokenizer file: not valid JSON")
        }
        // Not a prepared directory at all.
        #expect(throws: FileError.self) { try PreparedDataset(directory: NSTemporaryDirectory(), contextLength: 8) }
    }
}
