// The tokenizer protocol every tokenizer (char, word, byte-level BPE) conforms to, its errors, and
// loading a saved tokenizer by kind: our own JSON files carry a "type" field ("char", "word");
// a Hugging Face tokenizer.json (no "type", a "model" object) is read by HuggingFaceTokenizer.

import FoundationEssentials

/// Text to token ids and back.
public protocol Tokenizer {
    /// Number of distinct token ids; ids are 0..<vocabularySize.
    var vocabularySize: Int { get }
    /// Token ids for `text`, with the beginning- and end-of-sequence tokens the tokenizer adds
    /// (`sequenceBoundaries`). Throws `TokenizerError.unknownCharacter` for text it cannot represent.
    func encode(_ text: String) throws -> [Int32]
    /// Text for `tokens`; ids outside the vocabulary decode to U+FFFD.
    func decode(_ tokens: [Int32]) -> String
    /// The tokenizer as JSON that `TokenizerFile.load` recognises.
    func jsonData() throws -> Data
    /// "char", "word" or "bpe": what `gpt prepare --tokenizer` calls it.
    var kind: String { get }
    /// Encodes a chunk of a longer UTF-8 stream, appending to `tokens`, and returns how many bytes it
    /// consumed: all of them when `isFinal`, otherwise up to a point where the rest may tokenize
    /// differently once more bytes follow (the caller passes those bytes again with the next ones).
    /// Concatenating the tokens of all chunks gives exactly the tokens of the whole stream.
    func encodeChunk(_ bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool, into tokens: inout [Int32]) throws -> Int
    /// The bytes `tokens` stand for: lets a caller stream text whose characters span tokens.
    func decodeBytes(_ tokens: [Int32]) -> [UInt8]
    /// The special tokens that begin and end sequences: what `encode` adds, where generation stops.
    var sequenceBoundaries: SequenceBoundaries { get }
}

extension Tokenizer {
    /// For tokenizers whose tokens never span characters (char): cut at the last complete UTF-8
    /// character and encode the text before it.
    public func encodeChunk(_ bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool, into tokens: inout [Int32]) throws -> Int {
        let end = isFinal ? bytes.count : UTF8Boundary.lastCharacterBoundary(in: bytes)
        let piece = UnsafeBufferPointer(rebasing: bytes[..<end])
        guard let text = String(validating: piece, as: UTF8.self) else {
            throw TokenizerError.invalidUTF8(offset: UTF8Boundary.firstInvalidOffset(in: piece) ?? 0)
        }
        tokens.append(contentsOf: try encode(text))
        return end
    }

    /// The UTF-8 of `decode(tokens)`: right for tokenizers whose tokens are whole characters.
    public func decodeBytes(_ tokens: [Int32]) -> [UInt8] { Array(decode(tokens).utf8) }
}

extension CharTokenizer {
    /// "char".
    public var kind: String { Self.typeName }
}

/// Text a tokenizer cannot encode, or a tokenizer that cannot be built or read.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// `character` (at `position`, counted in Unicode scalars) is not in the vocabulary.
    case unknownCharacter(Unicode.Scalar, position: Int, vocabularySize: Int)
    /// A tokenizer file that does not parse or is inconsistent.
    case malformed(path: String, reason: String)
    /// A corpus with nothing to build a vocabulary from.
    case emptyCorpus
    /// Input that is not UTF-8, for a tokenizer that works on characters; `offset` counts bytes.
    case invalidUTF8(offset: Int)
    /// A vocabulary size the tokenizer cannot be built with.
    case invalidVocabularySize(requested: Int, minimum: Int, reason: String)

    /// One line, for the CLI to print as is.
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
        case let .invalidUTF8(offset):
            return "not valid UTF-8 text (at byte \(offset))"
        case let .invalidVocabularySize(requested, minimum, reason):
            return "vocabulary size \(requested) is too small: at least \(minimum) needed (\(reason))"
        }
    }
}

/// Saving and loading tokenizers as JSON files.
public enum TokenizerFile {
    /// The conventional file name inside a checkpoint directory.
    public static let fileName = "tokenizer.json"
    /// The Hub files beside a tokenizer.json that `load(from:)` reads with it and
    /// `save(_:intoDirectory:)` writes back (they hold BOS/EOS rules).
    public static var companionFileNames: [String] { TokenizerCompanions.fileNames }

    /// Writes `tokenizer` as JSON to `path` (fsynced).
    public static func save(_ tokenizer: any Tokenizer, to path: String) throws {
        try FileIO.writeDurably(try tokenizer.jsonData(), to: path)
    }

    /// The files `save(_:intoDirectory:)` writes for `tokenizer`: `fileName`, and a Hub
    /// tokenizer's companion files, in the order it writes them.
    public static func fileNames(of tokenizer: any Tokenizer) -> [String] {
        guard let hub = tokenizer as? HuggingFaceTokenizer else { return [fileName] }
        return [fileName] + hub.companionFiles.keys.sorted()
    }

    /// Writes `tokenizer` into `directory` as `fileName`, with the companion files a Hugging Face
    /// tokenizer was read with (tokenizer_config.json, generation_config.json, ...: they say which
    /// tokens begin and end a sequence), so `load(from:)` there gives back the same tokenizer.
    public static func save(_ tokenizer: any Tokenizer, intoDirectory directory: String) throws {
        try save(tokenizer, to: directory + "/" + fileName)
        guard let hub = tokenizer as? HuggingFaceTokenizer else { return }
        for name in fileNames(of: tokenizer).dropFirst() {
            try FileIO.writeDurably(hub.companionFiles[name]!, to: directory + "/" + name)
        }
    }

    /// Reads a tokenizer saved by `save`: ours by their "type" field, a Hugging Face tokenizer.json
    /// (GPT-2's included) by its "model" object, with the tokenizer_config.json,
    /// special_tokens_map.json and generation_config.json beside it.
    public static func load(from path: String) throws -> any Tokenizer {
        try load(jsonData: try FileIO.readData(path), path: path, directory: HuggingFaceTokenizer.directory(containing: path))
    }

    /// Parses tokenizer JSON; `path` only names the file in errors. A Hugging Face tokenizer.json's
    /// companion files are read from `directory`, when given.
    public static func load(jsonData data: Data, path: String, directory: String? = nil) throws -> any Tokenizer {
        struct Header: Decodable {
            let type: String?
            let model: Model?
            struct Model: Decodable { let type: String? }
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: data)
        } catch {
            throw TokenizerError.malformed(path: path, reason: FileIO.describe(error))
        }
        if header.type == nil && header.model != nil {
            return try HuggingFaceTokenizer.load(jsonData: data, path: path, directory: directory)
        }
        let known = [CharTokenizer.typeName, WordTokenizer.typeName]
        switch header.type {
        case CharTokenizer.typeName: return try CharTokenizer(jsonData: data, path: path)
        case WordTokenizer.typeName: return try WordTokenizer(jsonData: data, path: path)
        case let type?:
            throw TokenizerError.malformed(path: path, reason: "unknown tokenizer type '\(type)'; known: "
                                           + "\(known.joined(separator: ", ")), or a Hugging Face tokenizer.json")
        case nil:
            throw TokenizerError.malformed(path: path, reason: "missing key 'type' (or 'model' for a Hugging Face tokenizer.json)")
        }
    }
}
