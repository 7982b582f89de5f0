// The tokenizer protocol every tokenizer (char today; word and byte-level BPE later) conforms to,
// its errors, and loading a saved tokenizer by the "type" field of its JSON file.

import FoundationEssentials

public protocol Tokenizer {
    /// Number of distinct token ids; ids are 0..<vocabularySize.
    var vocabularySize: Int { get }
    /// Token ids for `text`. Throws `TokenizerError.unknownCharacter` for text it cannot represent.
    func encode(_ text: String) throws -> [Int32]
    /// Text for `tokens`; ids outside the vocabulary decode to U+FFFD.
    func decode(_ tokens: [Int32]) -> String
    /// The tokenizer as JSON, with a "type" field that `TokenizerFile.load` dispatches on.
    func jsonData() throws -> Data
}

public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// `character` (at `position`, counted in Unicode scalars) is not in the vocabulary.
    case unknownCharacter(Unicode.Scalar, position: Int, vocabularySize: Int)
    /// A tokenizer file that does not parse or is inconsistent.
    case malformed(path: String, reason: String)
    /// A corpus with nothing to build a vocabulary from.
    case emptyCorpus

    public var description: String {
        switch self {
        case let .unknownCharacter(scalar, position, size):
            let hex = String(scalar.value, radix: 16, uppercase: true)
            let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            return "character \(String(scalar).debugDescription) (\(code)) at position \(position) "
                + "is not in the tokenizer's vocabulary of \(size) characters"
        case let .malformed(path, reason):
            return "\(path): not a valid tokenizer file: \(reason)"
        case .emptyCorpus:
            return "cannot build a vocabulary from empty text"
        }
    }
}

public enum TokenizerFile {
    /// The conventional file name inside a checkpoint directory.
    public static let fileName = "tokenizer.json"

    /// Writes `tokenizer` as JSON to `path` (fsynced).
    public static func save(_ tokenizer: any Tokenizer, to path: String) throws {
        try FileIO.writeDurably(try tokenizer.jsonData(), to: path)
    }

    /// Reads a tokenizer saved by `save`, choosing the type from its "type" field.
    public static func load(from path: String) throws -> any Tokenizer {
        struct Header: Decodable { let type: String }
        let data = try FileIO.readData(path)
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: data)
        } catch {
            throw TokenizerError.malformed(path: path, reason: FileIO.describe(error))
        }
        switch header.type {
        case CharTokenizer.typeName: return try CharTokenizer(jsonData: data, path: path)
        default:
            throw TokenizerError.malformed(path: path, reason: "unknown tokenizer type '\(header.type)'; "
                                           + "known: \(CharTokenizer.typeName)")
        }
    }
}
