// Character tokenizer: one token per Unicode scalar of the training corpus (sorted by code point,
// so the same corpus always gives the same ids). Saved as {"type": "char", "characters": [...]}.

import FoundationEssentials

/// One token per Unicode scalar of the vocabulary.
public struct CharTokenizer: Tokenizer, Equatable, Sendable {
    /// Its `kind`.
    public static let typeName = "char"

    /// Token id i is `characters[i]`.
    public let characters: [Unicode.Scalar]
    /// Scalar value -> token id.
    private let ids: [UInt32: Int32]

    /// The vocabulary of `corpus`: its distinct Unicode scalars in code-point order.
    public init(corpus: String) throws {
        var seen = Set<UInt32>()
        for scalar in corpus.unicodeScalars { seen.insert(scalar.value) }
        guard !seen.isEmpty else { throw TokenizerError.emptyCorpus }
        try self.init(characters: seen.sorted().map { Unicode.Scalar($0)! })
    }

    /// A tokenizer over exactly these characters (ids in this order). They must be distinct.
    public init(characters: [Unicode.Scalar]) throws {
        var ids: [UInt32: Int32] = [:]
        for (id, scalar) in characters.enumerated() {
            if ids.updateValue(Int32(id), forKey: scalar.value) != nil {
                throw TokenizerError.malformed(path: "<characters>",
                                               reason: "character \(String(scalar).debugDescription) appears twice")
            }
        }
        self.characters = characters
        self.ids = ids
    }

    /// The number of characters.
    public var vocabularySize: Int { characters.count }

    /// One id per Unicode scalar; throws `TokenizerError.unknownCharacter` at the first one outside
    /// the vocabulary.
    public func encode(_ text: String) throws -> [Int32] {
        var tokens: [Int32] = []
        tokens.reserveCapacity(text.utf8.count)
        for (position, scalar) in text.unicodeScalars.enumerated() {
            guard let id = ids[scalar.value] else {
                throw TokenizerError.unknownCharacter(scalar, position: position, vocabularySize: vocabularySize)
            }
            tokens.append(id)
        }
        return tokens
    }

    /// The characters of `tokens`; ids outside the vocabulary give U+FFFD.
    public func decode(_ tokens: [Int32]) -> String {
        var text = String.UnicodeScalarView()
        for token in tokens {
            text.append(characters.indices.contains(Int(token)) ? characters[Int(token)] : "\u{FFFD}")
        }
        return String(text)
    }

    /// Equal when the characters, in id order, are.
    public static func == (lhs: CharTokenizer, rhs: CharTokenizer) -> Bool {
        lhs.characters == rhs.characters
    }

    // MARK: - JSON

    private struct File: Codable {
        var type: String
        var characters: [String]
    }

    /// {"type": "char", "characters": [...]}, as `TokenizerFile.load` reads it.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(File(type: Self.typeName, characters: characters.map { String($0) }))
    }

    /// Parses a saved tokenizer; `path` only names the file in errors.
    public init(jsonData: Data, path: String) throws {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: jsonData)
        } catch {
            throw TokenizerError.malformed(path: path, reason: FileIO.describe(error))
        }
        guard file.type == Self.typeName else {
            throw TokenizerError.malformed(path: path, reason: "type is '\(file.type)', expected '\(Self.typeName)'")
        }
        guard !file.characters.isEmpty else {
            throw TokenizerError.malformed(path: path, reason: "'characters' is empty")
        }
        var scalars: [Unicode.Scalar] = []
        for (index, entry) in file.characters.enumerated() {
            let entryScalars = Array(entry.unicodeScalars)
            guard entryScalars.count == 1 else {
                throw TokenizerError.malformed(
                    path: path, reason: "characters[\(index)] is \(entry.debugDescription), expected exactly one character")
            }
            scalars.append(entryScalars[0])
        }
        do {
            try self.init(characters: scalars)
        } catch let TokenizerError.malformed(_, reason) {
            throw TokenizerError.malformed(path: path, reason: reason)
        }
    }
}
