// TextDataset: file errors, the 90/10 split, deterministic random windows and fixed validation batches.

import Foundation
import Testing
@testable import GPT
import Tokenizers

@Suite struct DatasetTests {
    static func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "dataset-\(UUID().uuidString).txt"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func splitHoldsOutTheLastTenPercent() throws {
        let tokens = (0..<100).map { Int32($0) }
        let dataset = try TextDataset(tokens: tokens, contextLength: 8)
        #expect(dataset.train == Array(tokens[0..<90]))
        #expect(dataset.validation == Array(tokens[90..<100]))
    }

    @Test func windowsHaveNextTokenTargetsAndStayInBounds() throws {
        let tokens = (0..<200).map { Int32($0) }
        let dataset = try TextDataset(tokens: tokens, contextLength: 16)
        var batches = dataset.trainingBatches(batchSize: 4, seed: 7)
        for _ in 0..<50 {
            let batch = try batches.next()
            #expect(batch.tokens.count == 4 * 16 && batch.targets.count == 4 * 16)
            for row in 0..<4 {
                let window = batch.tokens[row * 16 ..< (row + 1) * 16]
                // Tokens are their own positions here, so a window is consecutive and targets are +1.
                #expect(zip(window.dropFirst(), window).allSatisfy { $0 == $1 + 1 })
                #expect(zip(batch.targets[row * 16 ..< (row + 1) * 16], window).allSatisfy { $0 == $1 + 1 })
                #expect(batch.targets[(row + 1) * 16 - 1] < Int32(dataset.train.count))
            }
        }
    }

    @Test func sameSeedSameBatchesDifferentSeedDifferentBatches() throws {
        let dataset = try TextDataset(tokens: (0..<1000).map { Int32($0 % 37) }, contextLength: 8)
        func first5(_ seed: UInt64) throws -> [TokenBatch] {
            var stream = dataset.trainingBatches(batchSize: 3, seed: seed)
            return try (0..<5).map { _ in try stream.next() }
        }
        let a = try first5(1), b = try first5(1), c = try first5(2)
        #expect(a == b)
        #expect(a != c)
    }

    @Test func validationBatchesAreFixedAndSpanTheSplit() throws {
        let dataset = try TextDataset(tokens: (0..<1000).map { Int32($0) }, contextLength: 10)
        let first = dataset.validationBatches(batchSize: 2, count: 3)
        #expect(first == dataset.validationBatches(batchSize: 2, count: 3))
        #expect(first.count == 3)
        #expect(first[0].tokens.first == 900)              // starts at the split's first token
        #expect(first[2].targets.last == 999)              // ends at its last token
        #expect(first.allSatisfy { $0.tokens.allSatisfy { $0 >= 900 } })
    }

    @Test func tooShortTextNamesTheSizes() {
        #expect(throws: DatasetError.tooShort(trainTokens: 45, validationTokens: 5, contextLength: 8)) {
            try TextDataset(tokens: Array(repeating: 0, count: 50), contextLength: 8)
        }
        let message = "\(DatasetError.tooShort(trainTokens: 45, validationTokens: 5, contextLength: 8))"
        #expect(message.contains("45") && message.contains("5 for validation") && message.contains("more than 9"))
    }

    @Test func loadsCharactersFromAFile() throws {
        let text = String(repeating: "First Citizen:\nSpeak, speak.\n\n", count: 20)
        let path = try Self.temporaryFile(Array(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (dataset, tokenizer, fingerprint) = try TextDataset.loadCharacters(path: path, contextLength: 16)
        #expect(tokenizer.decode(dataset.train + dataset.validation) == text)
        var hash = SHA256()
        hash.update(Array(text.utf8))
        #expect(fingerprint.bytes == text.utf8.count && fingerprint.sha256 == hash.finalize())
        #expect(fingerprint.path.hasPrefix("/") && fingerprint.path.hasSuffix(".txt"))
    }

    @Test func fileErrorsAreOneLine() throws {
        let missing = NSTemporaryDirectory() + "no-such-\(UUID().uuidString).txt"
        #expect(throws: FileError(path: missing, reason: "no such file")) {
            try TextDataset.loadCharacters(path: missing, contextLength: 8)
        }
        let empty = try Self.temporaryFile([])
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(throws: DatasetError.emptyFile(path: empty)) { try TextDataset.loadCharacters(path: empty, contextLength: 8) }
        let binary = try Self.temporaryFile([0x41, 0xFF, 0xFE, 0x42])
        defer { try? FileManager.default.removeItem(atPath: binary) }
        #expect(throws: FileError(path: binary, reason: "not valid UTF-8 text")) {
            try TextDataset.loadCharacters(path: binary, contextLength: 8)
        }
    }
}
