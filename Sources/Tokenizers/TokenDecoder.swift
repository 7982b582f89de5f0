// A tokenizer.json's decoder: the steps that turn token strings back into text, applied in order to
// the whole list as the `tokenizers` library does (each step maps a list of strings to a list of
// strings; the results are joined). Special tokens pass through the steps like any other token.
// Without a decoder the library joins tokens with spaces, and so do we.

/// A tokenizer.json's decoder as a list of steps.
public struct TokenDecoder: Equatable, Sendable {
    /// One decoder of the file (a Sequence decoder's members, in order).
    public enum Step: Equatable, Sendable {
        /// GPT-2's byte-to-character table undone; the bytes of all tokens as one UTF-8 text.
        case byteLevel
        /// Runs of <0xNN> tokens become the text their bytes spell (U+FFFD per byte if not UTF-8).
        case byteFallback
        /// All tokens joined into one.
        case fuse
        /// Every occurrence of `pattern` in each token replaced.
        case replace(pattern: String, content: String)
        /// Up to `start` leading and `stop` trailing `content` characters removed from each token.
        case strip(content: Unicode.Scalar, start: Int, stop: Int)
        /// `replacement` becomes a space, except in the first token, where it is dropped unless the
        /// pre-tokenizer never prepends it.
        case metaspace(replacement: Unicode.Scalar, dropsInFirstToken: Bool)
    }

    /// nil: the file has no decoder.
    public var steps: [Step]?

    /// A decoder of `steps` (nil: none, so tokens are joined with spaces).
    public init(steps: [Step]?) { self.steps = steps }

    /// The text for a list of token strings.
    public func decode(_ tokens: [String]) -> String {
        guard let steps else { return tokens.joined(separator: " ") }
        var current = tokens
        for step in steps { current = Self.apply(step, to: current) }
        return current.joined()
    }

    /// The bytes one token stands for on its own, for streaming a continuation: the per-token steps
    /// only (no stripping of the first token's space, no joining).
    public func streamingBytes(_ token: String) -> [UInt8] {
        guard let steps else { return Array(token.utf8) }
        var text = token
        for step in steps {
            switch step {
            case .byteLevel: return Self.byteLevelBytes(text)
            case .byteFallback: if let byte = Self.fallbackByte(text) { return [byte] }
            case let .replace(pattern, content): text = Self.replacing(pattern, with: content, in: text)
            case let .metaspace(replacement, _): text = Self.replacing(String(replacement), with: " ", in: text)
            case .fuse, .strip: break
            }
        }
        return Array(text.utf8)
    }

    static func apply(_ step: Step, to tokens: [String]) -> [String] {
        switch step {
        case .byteLevel:
            return [String(decoding: tokens.flatMap(byteLevelBytes), as: UTF8.self)]
        case .byteFallback:
            return joiningByteRuns(tokens)
        case .fuse:
            return [tokens.joined()]
        case let .replace(pattern, content):
            return tokens.map { replacing(pattern, with: content, in: $0) }
        case let .strip(content, start, stop):
            return tokens.map { strip($0, content: content, start: start, stop: stop) }
        case let .metaspace(replacement, dropsInFirstToken):
            return tokens.enumerated().map { index, token in
                var scalars = String.UnicodeScalarView()
                for scalar in token.unicodeScalars {
                    if scalar != replacement {
                        scalars.append(scalar)
                    } else if !(index == 0 && dropsInFirstToken) {
                        scalars.append(" ")
                    }
                }
                return String(scalars)
            }
        }
    }

    /// A byte-level token's bytes; a token with a character outside the table (a special token
    /// such as "<|end of text|>") stands for its own UTF-8, as in the library.
    static func byteLevelBytes(_ token: String) -> [UInt8] {
        ByteLevel.decode(token) ?? Array(token.utf8)
    }

    /// The byte a "<0xNN>" token stands for.
    static func fallbackByte(_ token: String) -> UInt8? {
        let bytes = Array(token.utf8)
        guard bytes.count == 6, bytes.starts(with: Array("<0x".utf8)), bytes[5] == UInt8(ascii: ">"),
              let text = String(validating: bytes[3..<5], as: UTF8.self) else { return nil }
        return UInt8(text, radix: 16)
    }

    static func joiningByteRuns(_ tokens: [String]) -> [String] {
        var result: [String] = []
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if let text = String(validating: pending, as: UTF8.self) {
                result.append(text)
            } else {
                result.append(contentsOf: Array(repeating: "\u{FFFD}", count: pending.count))
            }
            pending.removeAll()
        }
        for token in tokens {
            if let byte = fallbackByte(token) {
                pending.append(byte)
            } else {
                flush()
                result.append(token)
            }
        }
        flush()
        return result
    }

    /// `text` with each `pattern` replaced, matched on Unicode scalars (not on canonically
    /// equivalent characters, as Swift's String comparison would).
    static func replacing(_ pattern: String, with content: String, in text: String) -> String {
        let needle = Array(pattern.unicodeScalars)
        guard !needle.isEmpty else { return text }
        let scalars = Array(text.unicodeScalars)
        var result = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            if index + needle.count <= scalars.count && scalars[index ..< index + needle.count].elementsEqual(needle) {
                result.append(contentsOf: content.unicodeScalars)
                index += needle.count
            } else {
                result.append(scalars[index])
                index += 1
            }
        }
        return String(result)
    }

    static func strip(_ token: String, content: Unicode.Scalar, start: Int, stop: Int) -> String {
        var scalars = Array(token.unicodeScalars)
        var leading = 0
        while leading < start && leading < scalars.count && scalars[leading] == content { leading += 1 }
        scalars.removeFirst(leading)
        var trailing = 0
        while trailing < stop && trailing < scalars.count && scalars[scalars.count - 1 - trailing] == content { trailing += 1 }
        scalars.removeLast(trailing)
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
