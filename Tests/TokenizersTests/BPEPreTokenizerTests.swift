// GPT-2's pre-tokenisation, hand-written: pieces for inputs whose regex split is worked out by hand,
// and the streaming contract (chunked scanning gives the same pieces as one pass).

import Compute
import Foundation
import Testing
import TestSupport
@testable import Tokenizers

@Suite struct BPEPreTokenizerTests {
    @Test(arguments: [
        ("Hello world", ["Hello", " world"]),
        ("I'm here, they'll see'S", ["I", "'m", " here", ",", " they", "'ll", " see", "'", "S"]),
        ("a  b", ["a", " ", " b"]),                      // \s+(?!\S) leaves the last space to " b"
        ("a\n\nb", ["a", "\n", "\n", "b"]),              // ...and the last newline stands alone
        ("end   ", ["end", "   "]),                      // trailing whitespace stays one piece
        ("x 123 4.5!!", ["x", " 123", " 4", ".", "5", "!!"]),
        (" ...?", [" ...?"]),
        ("naïve café 日本語", ["naïve", " café", " 日本語"]),
        ("e\u{301}", ["e", "\u{301}"]),                  // a combining mark is not a letter (Mn)
        ("x\u{3000}y", ["x", "\u{3000}", "y"]),          // ideographic space is \s
        ("٣٤ Ⅻ½", ["٣٤", " Ⅻ½"]),                        // \p{N} includes Nd, Nl and No
        ("😀😀 ok", ["😀😀", " ok"]),
        ("", []),
    ])
    func piecesMatchGPT2sRegex(text: String, expected: [String]) {
        #expect(PreTokenizer.pieces(of: text) == expected)
    }

    @Test func piecesConcatenateToTheInput() {
        for text in RandomText.strings(count: 300, seed: 11) {
            #expect(PreTokenizer.pieces(of: text).joined() == text)
        }
    }

    @Test(arguments: [1, 7, 64])
    func streamingInChunksGivesTheSamePieces(chunkSize: Int) {
        let text = RandomText.strings(count: 50, seed: 5).joined(separator: "x\n")
        let bytes = Array(text.utf8)
        var pieces: [[UInt8]] = [], pending: [UInt8] = [], offset = 0
        while offset < bytes.count || !pending.isEmpty {
            let next = bytes[offset ..< min(bytes.count, offset + chunkSize)]
            offset += next.count
            pending += next
            let isFinal = offset == bytes.count
            let consumed = pending.withUnsafeBufferPointer { buffer in
                PreTokenizer.forEachPiece(in: buffer, isFinal: isFinal) { pieces.append(Array(buffer[$0])) }
            }
            pending.removeFirst(consumed)
            if isFinal { break }
        }
        #expect(pieces.map { String(decoding: $0, as: UTF8.self) } == PreTokenizer.pieces(of: text))
    }

    @Test func countingOnManyThreadsMatchesOneThread() {
        let text = RandomText.strings(count: 400, seed: 3).joined(separator: "k\nQ")
        let parallel = PieceCounts.count(text, threads: 4), serial = PieceCounts.count(text, threads: 1)
        let asDictionary = { (counts: PieceCounts) in
            Dictionary(uniqueKeysWithValues: counts.entries.map { (Array($0.bytes), $0.count) })
        }
        #expect(asDictionary(parallel) == asDictionary(serial))
        #expect(parallel.totalCount == PreTokenizer.pieces(of: text).count)
    }

    @Test func byteLevelTableIsGPT2s() {
        #expect(ByteLevel.characterForByte[Int(UInt8(ascii: " "))] == "Ġ")
        #expect(ByteLevel.characterForByte[Int(UInt8(ascii: "\n"))] == "Ċ")
        #expect(ByteLevel.characterForByte[Int(UInt8(ascii: "A"))] == "A")
        #expect(Set(ByteLevel.characterForByte).count == 256)
        let all = (0...255).map { UInt8($0) }
        #expect(ByteLevel.decode(ByteLevel.encode(all)) == all)
        #expect(ByteLevel.decode("a b") == nil)  // a real space is not byte-level
    }
}
