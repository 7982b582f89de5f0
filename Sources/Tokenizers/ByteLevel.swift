// GPT-2's byte-to-unicode table: every byte 0...255 gets a printable Unicode character, so a
// byte-level BPE vocabulary can be written as JSON strings (the form Hugging Face tokenizer.json
// files use). Printable Latin-1 bytes map to themselves; the other 68 bytes (controls, space,
// DEL, NBSP, soft hyphen) map to U+0100, U+0101, ... in byte order (space becomes "Ġ", U+0120).

/// GPT-2's table between bytes and the printable characters that stand for them in vocabularies.
public enum ByteLevel {
    /// Byte b is written as `characterForByte[b]`.
    public static let characterForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The inverse table: scalar value -> byte, for the 256 characters above.
    public static let byteForCharacter: [UInt32: UInt8] = {
        var inverse: [UInt32: UInt8] = [:]
        for (byte, scalar) in characterForByte.enumerated() { inverse[scalar.value] = UInt8(byte) }
        return inverse
    }()

    /// `bytes` as a byte-level string ("Ġthe" for " the").
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(characterForByte[Int(byte)]) }
        return String(scalars)
    }

    /// The bytes a byte-level string stands for; nil if it holds a character outside the table.
    public static func decode(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            guard let byte = byteForCharacter[scalar.value] else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
