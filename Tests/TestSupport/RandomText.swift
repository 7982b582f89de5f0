// Shared by the tokenizer and data tests: deterministic random text drawn from a pool that covers what
// real corpora hold (ASCII words, accents precomposed and combining, CJK, emoji with modifiers and
// joiners, digits of other scripts, unusual whitespace, apostrophes for GPT-2's contractions).

import Compute
import Foundation

public enum RandomText {
    public static let pool: [String] = [
        "a", "b", "e", "t", "Q", "Z", " ", " ", "  ", "\n", "\n\n", "\t", "\r\n", "0", "7", "42", "'s", "'ll", "'S",
        "'", "!", "?", ".", ",", "--", "\"", "é", "e\u{301}", "ñ", "ü", "Å", "ß", "日本", "語", "中文", "한국어",
        "😀", "👍🏽", "👩‍👩‍👧", "🇫🇷", "\u{300}", "\u{20DD}", "\u{0663}", "Ⅻ", "½", "²", "\u{A0}", "\u{3000}",
        "\u{2028}", "\u{85}", "\u{200B}", "\u{FEFF}", "Ω", "ǅ", "ʰ", "ﬁ", "\u{1F}",
    ]

    /// `count` strings of 0..<maxPieces pool entries each, reproducible from `seed`.
    public static func strings(count: Int, maxPieces: Int = 30, seed: UInt64) -> [String] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            let pieces = Int(generator.next() % UInt64(maxPieces))
            return (0..<pieces).map { _ in pool[Int(generator.next() % UInt64(pool.count))] }.joined()
        }
    }

    /// Arbitrary bytes, most of them not valid UTF-8.
    public static func bytes(count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    }

    public static func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "\(name)-\(UUID().uuidString)"
    }
}
