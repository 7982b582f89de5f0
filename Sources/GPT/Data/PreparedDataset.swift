// A prepared data directory (written by `gpt prepare`, see DataPreparation.swift):
//   meta.json        tokenizer kind, vocabulary size, dtype, token counts, sources and their hashes
//   tokenizer.json   the tokenizer (ours, or a Hugging Face file for BPE)
//   train.bin        training tokens, little-endian uint16 or uint32
//   val.bin          validation tokens
// Loading opens the token files (TokenFile: read window by window, every id checked against the
// vocabulary) and checks them against meta.json, so a truncated or mismatched directory fails with
// one line instead of training on garbage.

import FoundationEssentials
import Tokenizers

/// meta.json: what a prepared directory holds and where it came from. Written last, so a
/// directory with meta.json is complete.
public struct PreparedMetadata: Codable, Equatable, Sendable {
    /// One input file.
    public struct Source: Codable, Equatable, Sendable {
        /// The path it was read from.
        public var path: String
        /// Its size.
        public var bytes: Int
        /// Its SHA-256, as `sha256sum` prints it.
        public var sha256: String
    }

    /// The metadata file's name.
    public static let fileName = "meta.json"
    /// The training tokens' file name.
    public static let trainFileName = "train.bin"
    /// The validation tokens' file name.
    public static let validationFileName = "val.bin"
    /// The format version this code writes and reads.
    public static let currentVersion = 1

    /// The version the directory was written with.
    public var formatVersion = PreparedMetadata.currentVersion
    /// The tokenizer's kind: "char", "word" or "bpe".
    public var tokenizer: String
    /// The tokenizer's file in the directory.
    public var tokenizerFile = TokenizerFile.fileName
    /// V: the tokenizer's vocabulary size.
    public var vocabSize: Int
    /// How the token files store ids.
    public var dtype: TokenDType
    /// Tokens in the training file.
    public var trainTokens: Int
    /// Tokens in the validation file.
    public var validationTokens: Int
    /// The fraction of the input bytes held out for validation.
    public var validationFraction: Double
    /// The training tokens' file in the directory.
    public var trainFile = PreparedMetadata.trainFileName
    /// The validation tokens' file in the directory.
    public var validationFile = PreparedMetadata.validationFileName
    /// The input files, in order.
    public var sources: [Source]
}

/// A prepared directory opened for training: its token files read window by window, so corpora
/// larger than memory work.
public struct PreparedDataset: TrainingData {
    /// The directory (without a trailing slash).
    public let directory: String
    /// Its meta.json.
    public let metadata: PreparedMetadata
    /// The tokenizer the tokens were made with.
    public let tokenizer: any Tokenizer
    /// The training tokens.
    public let train: TokenFile
    /// The validation tokens.
    public let validation: TokenFile
    public let contextLength: Int

    /// The token files' identity (see DataFingerprint).
    public var fingerprint: DataFingerprint {
        DataFingerprint(path: DataFingerprint.absolute(directory), bytes: (train.count + validation.count) * metadata.dtype.byteCount,
                        sha256: {
                            var hash = SHA256()
                            hash.update(Array(((train.sha256 ?? "") + "\n" + (validation.sha256 ?? "") + "\n").utf8))
                            return hash.finalize()
                        }())
    }

    /// Tokens in the training split.
    public var trainTokenCount: Int { train.count }
    /// Tokens in the validation split.
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
        // The files meta.json names live in the directory: plain names, no path to elsewhere.
        for name in [metadata.tokenizerFile, metadata.trainFile, metadata.validationFile]
        where name.isEmpty || name.contains("/") || name == "." || name == ".." {
            throw FileError(path: metadataPath, reason: "names the file '\(name)': expected a file name in the directory")
        }
        let tokenizer = try TokenizerFile.load(from: root + "/" + metadata.tokenizerFile)
        guard tokenizer.vocabularySize == metadata.vocabSize, tokenizer.kind == metadata.tokenizer else {
            throw FileError(path: metadataPath, reason: "says a \(metadata.tokenizer) tokenizer of \(metadata.vocabSize) tokens, "
                            + "but \(metadata.tokenizerFile) holds a \(tokenizer.kind) tokenizer of \(tokenizer.vocabularySize)")
        }
        guard TokenDType.fitting(vocabularySize: metadata.vocabSize).byteCount <= metadata.dtype.byteCount else {
            throw FileError(path: metadataPath, reason: "dtype \(metadata.dtype.rawValue) cannot hold \(metadata.vocabSize) token ids")
        }
        func open(_ name: String, expected: Int) throws -> TokenFile {
            let file = try TokenFile(path: root + "/" + name, dtype: metadata.dtype, vocabularySize: metadata.vocabSize)
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

    /// An endless stream of random training windows, the same for the same seed.
    public func trainingBatches(batchSize: Int, seed: UInt64) -> RandomBatches {
        RandomBatches(tokens: train, batchSize: batchSize, length: contextLength, seed: seed)
    }

    /// `count` fixed batches spread over the validation split.
    public func validationBatches(batchSize: Int, count: Int) throws -> [TokenBatch] {
        try TextDataset.evenlySpacedBatches(from: validation, batchSize: batchSize, count: count, length: contextLength)
    }

    /// `count` fixed batches spread over the training split.
    public func trainingEvaluationBatches(batchSize: Int, count: Int) throws -> [TokenBatch] {
        try TextDataset.evenlySpacedBatches(from: train, batchSize: batchSize, count: count, length: contextLength)
    }
}
