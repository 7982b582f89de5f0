// Lines of input read with a bound: the interactive prompt loop's stdin and a prompts file. A line
// (the bytes up to "\n", without it or a "\r" before it) longer than the bound is reported as soon
// as the bound is passed, without reading the rest, so a newline-free stream (stdin from /dev/zero)
// cannot grow one line until the kernel kills the process; the caller chooses to stop there or to
// discard the rest of the line. A line that is not UTF-8 is reported too.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Tokenizers

struct LineReader {
    /// One line of input.
    enum Line: Equatable {
        case text(String)
        /// Bytes that are not UTF-8 text.
        case invalidUTF8
        /// More than `limit` bytes without a newline; the rest of the line is still unread.
        case tooLong
    }

    /// The longest line accepted, in bytes. A prompt keeps only its last context-length tokens,
    /// so anything longer than this is a mistake, not a prompt.
    static let defaultLimit = 1 << 20

    let descriptor: Int32
    /// Names the input in errors.
    let name: String
    let limit: Int
    /// Lines returned so far (the number of the last one).
    private(set) var lineNumber = 0
    private var buffer: [UInt8] = []
    private var atEnd = false

    init(descriptor: Int32, name: String, limit: Int = LineReader.defaultLimit) {
        self.descriptor = descriptor
        self.name = name
        self.limit = limit
    }

    /// The next line, or nil at the end of the input.
    mutating func next() throws -> Line? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")), newline <= limit {
                let line = take(newline, skipping: 1)
                return decode(line)
            }
            if buffer.count > limit {
                lineNumber += 1
                return .tooLong
            }
            if atEnd {
                guard !buffer.isEmpty else { return nil }
                return decode(take(buffer.count, skipping: 0))
            }
            try fill()
        }
    }

    /// After `.tooLong`: reads and drops the rest of that line (up to its newline or the end).
    mutating func discardRestOfLine() throws {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                buffer.removeSubrange(...newline)
                return
            }
            buffer.removeAll(keepingCapacity: true)
            if atEnd { return }
            try fill()
        }
    }

    /// The first `count` bytes as a line, dropping them and `skipping` more (the newline).
    private mutating func take(_ count: Int, skipping: Int) -> ArraySlice<UInt8> {
        var line = buffer[..<count]
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        let result = ArraySlice(Array(line))
        buffer.removeSubrange(..<(count + skipping))
        lineNumber += 1
        return result
    }

    private func decode(_ bytes: ArraySlice<UInt8>) -> Line {
        String(validating: bytes, as: UTF8.self).map { .text($0) } ?? .invalidUTF8
    }

    /// Reads up to 64 KiB more.
    private mutating func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw FileIO.systemError(name, "cannot read") }
            if got == 0 { atEnd = true } else { buffer += chunk[..<got] }
            return
        }
    }
}
