// A prepared data directory (written by `gpt prepare`, see DataPreparation.swift):
//   meta.json        tokenizer kind, vocabulary size, dtype, token counts, sources and their hashes
//   tokenizer.json   the tokenizer (ours, or a Hugging Face file for BPE)
//   train.bin        training tokens, little-endian uint16 or uint32
//   val.bin          validation tokens
// Loading memory-maps the token files and checks them against meta.json, so a truncated or
// mismatched directory fails with one line instead of training on garbage.

import FoundationEssentials
import Tokenizers

public struct PreparedMetadata: Codable, Equatable, Sendable {
    public struct Source: Codable, Equatable, Sendable {
        public var path: String
        public var bytes: Int
        public var sha256: String
    }

    public static let fileName = "meta.json"
    public static let trainFileName = "train.bin"
    public static let validationFileName = "val.bin"
    public static let currentVersion = 1

    public var formatVersion = PreparedMetadata.currentVersion
    public var tokenizer: String
    public var tokenizerFile = TokenizerFile.fileName
    public var vocabSize: Int
    public var dtype: TokenDType
    public var trainTokens: Int
    public var validationTokens: Int
    public var validationFraction: Double
    public var trainFile = PreparedMetadata.trainFileName
    public var validationFile = PreparedMetadata.validationFileName
    public var sources: [Source]
}

public struct PreparedDataset: TrainingData {
    public let directory: String
    public let metadata: PreparedMetadata
    public let tokenizer: any Tokenizer
    public let train: MappedTokenFile
    public let validation: MappedTokenFile
    public let contextLength: Int

    public var trainTokenCount: Int { train.count }
    public var validationTokenCount: Int { validation.count }

    /// Whether `path` is a directory holding meta.json.
    public static func isPrepared(_ path: String) -> Bool {
        FileIO.isDirectory(path) && FileManager.default.fileExists(atPath: path + "/" + PreparedMetadata.fileName)
    }

    /// Opens a prepared directory for windows of `contextLength` tokens.
    public init(directory: String, contextLength: Int) throws {
        let root = Checkpoint.normalized(directory)
        guard FileIO.isDirectory(root) else {
            throw FileError(path: root, reason: FileManager.default.fileExists(atPath: root)
                            ? "not a directory" : "no such directory")
        }
        let metadataPath = root + "/" + PreparedMetadata.fileName
        guard FileManager.default.fileExists(atPath: metadataPath) else {
            throw FileError(path: root, reason: "not a prepared data directory (no \(PreparedMetadata.fileName); see gpt prepare)")
        }
        let metadata = try FileIO.decodeJSON(PreparedMetadata.self, from: metadataPath)
        guard metadata.formatVersion == PreparedMetadata.currentVersion else {
            throw FileError(path: metadataPath, reason: "format version \(metadata.formatVersion) is not supported "
                            + "(expected \(PreparedMetadata.currentVersion)); prepare the data again")
        }
        let tokenizer = try TokenizerFile.load(from: root + "/" + metadata.tokenizerFile)
        guard tokenizer.vocabularySize == metadata.vocabSize, tokenizer.kind == metadata.tokenizer else {
            throw FileError(path: metadataPath, reason: "says a \(metadata.tokenizer) tokenizer of \(metadata.vocabSize) tokens, "
                            + "but \(metadata.tokenizerFile) holds a \(tokenizer.kind) tokenizer of \(tokenizer.vocabularySize)")
        }
        guard TokenDType.fitting(vocabularySize: metadata.vocabSize).byteCount <= metadata.dtype.byteCount else {
            throw FileError(path: metadataPath, reason: "dtype \(metadata.dtype.rawValue) cannot hold \(metadata.vocabSize) token ids")
        }
        func open(_ name: String, expected: Int) throws -> MappedTokenFile {
            let file = try MappedTokenFile(path: root + "/" + name, dtype: metadata.dtype)
            guard file.count == expected else {
                throw FileError(path: file.path, reason: "holds \(file.count) tokens but \(PreparedMetadata.fileName) says \(expected)")
            }
            return file
        }
        train = try open(metadata.trainFile, expected: metadata.trainTokens)
        validation = try open(metadata.validationFile, expected: metadata.validationTokens)
        self.directory = root
        self.metadata = metadata
        self.tokenizer = tokenizer
        self.contextLength = contextLength
        guard contextLength >= 1 else {
            throw DatasetError.invalidArgument("context length must be at least 1, got \(contextLength)")
        }
        try Self.checkLengths(train: train.count, validation: validation.count, contextLength: contextLength)
    }

    public func trainingBatches(batchSize: Int, seed: UInt64) -> RandomBatches {
        RandomBatches(tokens: train, batchSize: batchSize, length: contextLength, seed: seed)
    }

    public func validationBatches(batchSize: Int, count: Int) -> [TokenBatch] {
        TextDataset.evenlySpacedBatches(from: validation, batchSize: batchSize, count: count, length: contextLength)
    }

    public func trainingEvaluationBatches(batchSize: Int, count: Int) -> [TokenBatch] {
        TextDataset.evenlySpacedBatches(from: train, batchSize: batchSize, count: count, length: contextLength)
    }
}
