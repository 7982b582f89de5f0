// Where UTF-8 characters start and end in a byte buffer: chunked readers cut only at character
// boundaries, and invalid input is reported with its byte offset.

/// Character boundaries and invalid sequences in UTF-8 bytes.
public enum UTF8Boundary {
    /// The end of the last complete character in `bytes` (bytes.count when it ends cleanly). A
    /// truncated multi-byte sequence at the end is left for the next chunk.
    public static func lastCharacterBoundary(in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var index = bytes.count
        // Walk back over at most three continuation bytes to the lead byte of the last character.
        var back = 0
        while index > 0 && back < 4 {
            let byte = bytes[index - 1]
            if byte & 0xC0 != 0x80 {
                let needed = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                return needed > back + 1 ? index - 1 : bytes.count
            }
            index -= 1
            back += 1
        }
        return bytes.count
    }

    /// The offset of the first byte that does not begin a valid UTF-8 sequence, if any.
    public static func firstInvalidOffset(in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case let .scalarValue(scalar): offset += UTF8.width(scalar)
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}
