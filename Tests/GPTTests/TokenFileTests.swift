// Token files: written little-endian, read back window by window with the same ids; the dtype switch at
// 65,535; corrupted sizes refused; SHA-256 against published test vectors.

import Foundation
import Testing
@testable import GPT
import TestSupport
import Tokenizers

@Suite struct TokenFileTests {
    @Test(arguments: [TokenDType.uint16, .uint32])
    func writtenTokensReadBackUnchanged(dtype: TokenDType) throws {
        let path = RandomText.temporaryPath("tokens") + ".bin"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let maximum: Int32 = dtype == .uint16 ? 65_534 : 1_000_000
        let tokens = (0..<5000).map { Int32($0 * 7919) % maximum }
        let writer = try TokenFileWriter(path: path, dtype: dtype)
        try writer.append(Array(tokens[..<1234]))
        try writer.append(Array(tokens[1234...]))
        try writer.finish()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes.count == tokens.count * dtype.byteCount)
        // Little-endian: token 1 is 7919 = 0x1EEF.
        #expect(bytes[dtype.byteCount] == 0xEF && bytes[dtype.byteCount + 1] == 0x1E)
        let file = try TokenFile(path: path, dtype: dtype)
        #expect(file.count == tokens.count)
        #expect(try file.allTokens == tokens)
        var window: [Int32] = []
        try file.appendTokens(from: 100, count: 5, to: &window)
        #expect(window == Array(tokens[100..<105]))
    }

    /// Issue 12, item 4: a file truncated or rewritten after it was opened is a thrown error that
    /// names the file and the byte, never a SIGBUS or an id the model lacks.
    @Test func aFileThatChangesAfterOpeningIsAnError() throws {
        let path = RandomText.temporaryPath("changing") + ".bin"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try TokenFileWriter(path: path, dtype: .uint16)
        try writer.append((0..<1000).map { Int32($0 % 50) })
        try writer.finish()
        let file = try TokenFile(path: path, dtype: .uint16, vocabularySize: 50)
        var window: [Int32] = []
        try file.appendTokens(from: 900, count: 10, to: &window)
        #expect(window == (900..<910).map { Int32($0 % 50) })
        #expect(truncate(path, 1000) == 0)
        #expect(throws: TokenFileError(path: path, reason: "the file shrank while in use: it held 2000 bytes when opened, "
                                       + "now 1000 bytes (reading byte 1800)")) {
            try file.appendTokens(from: 900, count: 10, to: &window)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seek(toOffset: 20)
        try handle.write(contentsOf: Data([0xFF, 0x00]))
        try handle.close()
        #expect(throws: TokenFileError(path: path, reason: "token at byte 20 is 255, outside the vocabulary 0..<50")) {
            try file.appendTokens(from: 0, count: 20, to: &window)
        }
        #expect(throws: TokenFileError.self) { try file.appendTokens(from: 995, count: 10, to: &window) }
    }

    /// Issue 12, item 11: an id outside the vocabulary anywhere in the file fails the open, naming
    /// the file and the byte (it used to surface at whichever step first sampled it).
    @Test(arguments: [TokenDType.uint16, .uint32])
    func anOutOfVocabularyIdFailsTheOpen(dtype: TokenDType) throws {
        let path = RandomText.temporaryPath("oov") + ".bin"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var tokens = (0..<1_500_000).map { Int32($0 % 65) }
        tokens[1_234_567] = 70
        let writer = try TokenFileWriter(path: path, dtype: dtype)
        try writer.append(tokens)
        try writer.finish()
        #expect(throws: FileError(path: path, reason: "token at byte \(1_234_567 * dtype.byteCount) is 70, outside the "
                                  + "vocabulary 0..<65")) {
            try TokenFile(path: path, dtype: dtype, vocabularySize: 65)
        }
        #expect(try TokenFile(path: path, dtype: dtype, vocabularySize: 71).count == tokens.count)
    }

    @Test func dtypeSwitchesToUInt32AboveSixtyFiveThousandFiveHundredThirtyFive() {
        #expect(TokenDType.fitting(vocabularySize: 256) == .uint16)
        #expect(TokenDType.fitting(vocabularySize: 65_535) == .uint16)
        #expect(TokenDType.fitting(vocabularySize: 65_536) == .uint32)
        #expect(TokenDType.fitting(vocabularySize: 100_000) == .uint32)
    }

    @Test func sizeThatIsNotAWholeNumberOfTokensIsRefused() throws {
        let path = RandomText.temporaryPath("odd") + ".bin"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data([1, 0, 2, 0, 3]).write(to: URL(fileURLWithPath: path))
        #expect(throws: FileError(path: path, reason: "corrupted token file: 5 bytes is not a whole number of uint16 tokens (2 bytes each)")) {
            try TokenFile(path: path, dtype: .uint16)
        }
        try Data([1, 0, 2, 0, 3, 0]).write(to: URL(fileURLWithPath: path))
        #expect(throws: FileError.self) { try TokenFile(path: path, dtype: .uint32) }
        #expect(try TokenFile(path: path, dtype: .uint16).allTokens == [1, 2, 3])
    }

    @Test func emptyAndMissingFiles() throws {
        let path = RandomText.temporaryPath("empty") + ".bin"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data().write(to: URL(fileURLWithPath: path))
        #expect(try TokenFile(path: path, dtype: .uint32).count == 0)
        #expect(throws: FileError(path: path + ".missing", reason: "no such file")) {
            try TokenFile(path: path + ".missing", dtype: .uint16)
        }
    }

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func sha256MatchesTheStandardVectors(input: String, digest: String) {
        var hash = SHA256()
        hash.update(Array(input.utf8))
        #expect(hash.finalize() == digest)
    }

    @Test func sha256InPiecesEqualsInOneGo() {
        let bytes = RandomText.bytes(count: 1000, seed: 4)
        var whole = SHA256(), pieces = SHA256()
        whole.update(bytes)
        for start in stride(from: 0, to: bytes.count, by: 37) { pieces.update(Array(bytes[start ..< min(bytes.count, start + 37)])) }
        #expect(whole.finalize() == pieces.finalize())
    }
}
