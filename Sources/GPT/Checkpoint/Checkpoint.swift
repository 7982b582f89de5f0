// Checkpoints: a directory holding config.json, model.safetensors and tokenizer.json, in Hugging
// Face layout (see Checkpoint+HuggingFace.swift), so `transformers` can load it too. A Hub
// tokenizer's companion files (tokenizer_config.json, generation_config.json, ...) go beside it:
// they hold its BOS/EOS, which generation stops at.
//
// Saving goes through CheckpointPublisher: the files are staged, committed by one rename and moved
// into place, so a kill at any instant leaves a checkpoint that loads (the old one or the new one)
// and a state the next trainer finishes or undoes; files the checkpoint did not write are left
// alone. Loading reads each file where the publisher says it is, checks every file, name, shape
// and dtype, and refuses bad input with one line.

import Compute
import FoundationEssentials
import Tokenizers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A checkpoint that cannot be saved or loaded, with the file and what was wrong.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    /// The directory or file at fault.
    public let path: String
    /// What was wrong with it.
    public let reason: String

    public var description: String { "\(path): invalid checkpoint: \(reason)" }
}

/// Saving and loading model checkpoints: directories in Hugging Face layout.
public enum Checkpoint {
    /// The Hugging Face config, with this project's `ModelConfig` under "gpt".
    public static let configFileName = "config.json"
    /// Every parameter under its Hugging Face name and layout.
    public static let weightsFileName = "model.safetensors"

    // MARK: - Save

    /// Saves `model`'s parameters, config and `tokenizer` into the directory `directory` (created
    /// when missing), replacing the files of a checkpoint there and leaving every other file alone.
    /// `extraFiles` are written beside the model files (e.g. the training state). Refuses to
    /// replace a file of a checkpoint's name that no checkpoint save wrote.
    public static func save(_ model: GPTModel, tokenizer: any Tokenizer, to directory: String,
                            extraFiles: [(name: String, data: Data)] = []) throws {
        // tokenizer.json before its companions: a reader that finds it still in .gpt-publishing
        // reads them there too (CheckpointPublisher moves the files in this order).
        let names = [configFileName, weightsFileName] + TokenizerFile.fileNames(of: tokenizer) + extraFiles.map(\.name)
        try CheckpointPublisher.publish(into: normalized(directory), names: names) { staging in
            try writeFiles(model, tokenizer: tokenizer, into: staging)
            for file in extraFiles { try FileIO.writeDurably(file.data, to: staging + "/" + file.name) }
        }
    }

    static func writeFiles(_ model: GPTModel, tokenizer: any Tokenizer, into directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let config = try encoder.encode(CheckpointConfigFile(model.config))
        try FileIO.writeDurably(config, to: directory + "/" + configFileName)
        let tensors = huggingFaceTensors(config: model.config, layout: model.layout, values: try model.parameterValues())
        try SafeTensors.write(tensors, metadata: ["format": "pt"], to: directory + "/" + weightsFileName)
        try TokenizerFile.save(tokenizer, intoDirectory: directory)
    }

    // MARK: - Load

    /// Where file `name` of the checkpoint in `directory` is to be read from: normally
    /// `directory/name`; while a committed save is being moved into place, its new copy.
    public static func filePath(_ name: String, in directory: String) -> String {
        CheckpointPublisher.path(of: name, in: normalized(directory))
    }

    /// Reads config.json's model config (the "gpt" key), validated.
    public static func readConfig(from directory: String) throws -> ModelConfig {
        let path = filePath(configFileName, in: directory)
        let file: CheckpointConfigFile
        do {
            file = try FileIO.decodeJSON(CheckpointConfigFile.self, from: path)
        } catch let error as FileError {
            throw CheckpointError(path: error.path, reason: error.reason)
        }
        do {
            try file.gpt.validate()
        } catch {
            throw CheckpointError(path: path, reason: "\(error)")
        }
        return file.gpt
    }

    /// Loads a checkpoint onto `backend`: the model with the saved parameters, and its tokenizer.
    /// Every file is checked against config.json before anything its sizes imply is allocated;
    /// `beforeAllocating` is then called with the config (to refuse a model too large for the
    /// device: see `MemoryEstimate`).
    public static func load(from directory: String, backend: any Backend,
                            beforeAllocating: (ModelConfig) throws -> Void = { _ in })
        throws -> (model: GPTModel, tokenizer: any Tokenizer)
    {
        let root = normalized(directory)
        guard FileIO.isDirectory(root) else {
            throw CheckpointError(path: root, reason: FileManager.default.fileExists(atPath: root)
                                  ? "not a directory" : "no such checkpoint directory")
        }
        let config = try readConfig(from: root)
        let tokenizer = try TokenizerFile.load(from: filePath(TokenizerFile.fileName, in: root))
        guard tokenizer.vocabularySize == config.vocabSize else {
            throw CheckpointError(path: root, reason: "tokenizer has \(tokenizer.vocabularySize) tokens but config.json "
                                  + "says vocabSize \(config.vocabSize)")
        }
        let weightsPath = filePath(weightsFileName, in: root)
        let tensors = try SafeTensors.read(weightsPath)
        // A config that implies more values than the file holds is refused before its layout is
        // built or its parameters allocated (a corrupted "layers" or "contextLength").
        let expected = try config.parameterCount(), held = tensors.reduce(0) { $0 + $1.values.count }
        guard held >= expected else {
            throw CheckpointError(path: weightsPath, reason: "holds \(held) values, but \(configFileName) describes a "
                                  + "model of \(expected) parameters")
        }
        let values = try parameterValues(from: tensors, config: config, layout: ParameterLayout(config),
                                         file: weightsPath)
        try beforeAllocating(config)
        let model = try GPTModel(config: config, backend: backend, seed: 0)
        try model.loadParameterValues(values)
        return (model, tokenizer)
    }

    // MARK: - Paths

    /// `path` without trailing slashes ("/" stays "/").
    public static func normalized(_ path: String) -> String {
        var result = path
        while result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return result
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
