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
        let config = try encoder.encode(CheckpointConfigFile(model.config, boundaries: tokenizer.sequenceBoundaries))
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

    /// Reads config.json's model config, validated: ours (under the "gpt" key) or, when there is
    /// no "gpt" key, one that transformers wrote (GPT2LMHeadModel, LlamaForCausalLM).
    public static func readConfig(from directory: String) throws -> ModelConfig {
        try readConfigFile(in: try existingDirectory(directory)).config
    }

    /// config.json's model config, and whether it was imported from a transformers config.
    static func readConfigFile(in root: String) throws -> (config: ModelConfig, imported: Bool) {
        let path = filePath(configFileName, in: root)
        let data: Data
        let json: JSONValue
        do {
            data = try FileIO.readData(path)
            json = try JSONParser.parse(Array(data))
        } catch let error as FileError {
            throw CheckpointError(path: error.path, reason: error.reason)
        } catch {
            throw CheckpointError(path: path, reason: "not valid JSON (\(error))")
        }
        guard json.objectMembers == nil || json.member("gpt") != nil else {
            return (try HuggingFaceConfig.modelConfig(json, path: path), true)
        }
        let file: CheckpointConfigFile
        do {
            file = try FileIO.decodeJSON(CheckpointConfigFile.self, data: data, path: path)
            try file.gpt.validate()
        } catch let error as ModelError {
            throw CheckpointError(path: path, reason: "\(error)")
        } catch let error as FileError {
            throw CheckpointError(path: error.path, reason: error.reason)
        } catch {
            throw CheckpointError(path: path, reason: FileIO.describe(error))
        }
        return (file.gpt, false)
    }

    /// Loads a checkpoint onto `backend`: the model with the saved parameters, and its tokenizer.
    /// The checkpoint is ours or a directory transformers wrote (`save_pretrained`: config.json
    /// without a "gpt" key, model.safetensors or its shards in F32, F16 or BF16, tokenizer.json).
    /// Every file is checked against config.json before anything its sizes imply is allocated;
    /// `beforeAllocating` is then called with the config (to refuse a model too large for the
    /// device: see `MemoryEstimate`).
    public static func load(from directory: String, backend: any Backend,
                            beforeAllocating: (ModelConfig) throws -> Void = { _ in })
        throws -> (model: GPTModel, tokenizer: any Tokenizer)
    {
        let root = try existingDirectory(directory)
        let (config, imported) = try readConfigFile(in: root)
        let tokenizer = try readTokenizer(in: root, config: config, imported: imported)
        let values = try readParameterValues(in: root, config: config, imported: imported,
                                             beforeAllocating: beforeAllocating)
        let model = try GPTModel(config: config, backend: backend, seed: 0)
        try model.loadParameterValues(values)
        return (model, tokenizer)
    }

    /// `directory` without trailing slashes, or an error when it is not a directory.
    static func existingDirectory(_ directory: String) throws -> String {
        let root = normalized(directory)
        guard FileIO.isDirectory(root) else {
            throw CheckpointError(path: root, reason: FileManager.default.fileExists(atPath: root)
                                  ? "not a directory" : "no such checkpoint directory")
        }
        return root
    }

    /// The tokenizer of the checkpoint in `directory` (ours or one transformers wrote), checked
    /// against its config.
    public static func readTokenizer(from directory: String) throws -> any Tokenizer {
        let root = try existingDirectory(directory)
        let (config, imported) = try readConfigFile(in: root)
        return try readTokenizer(in: root, config: config, imported: imported)
    }

    /// The checkpoint's tokenizer, checked against the config: ours have exactly its vocabulary; an
    /// imported model may have more rows than its tokenizer has tokens (padded embeddings), never fewer.
    static func readTokenizer(in root: String, config: ModelConfig, imported: Bool) throws -> any Tokenizer {
        let tokenizer = try TokenizerFile.load(from: filePath(TokenizerFile.fileName, in: root))
        if imported {
            guard tokenizer.vocabularySize <= config.vocabSize else {
                throw CheckpointError(path: root, reason: "tokenizer.json has \(tokenizer.vocabularySize) tokens, more than "
                                      + "config.json's vocab_size \(config.vocabSize)")
            }
        } else if tokenizer.vocabularySize != config.vocabSize {
            throw CheckpointError(path: root, reason: "tokenizer has \(tokenizer.vocabularySize) tokens but config.json "
                                  + "says vocabSize \(config.vocabSize)")
        }
        return tokenizer
    }

    /// The flat parameter values from the checkpoint's weight files: model.safetensors, or for an
    /// imported checkpoint also the shards of model.safetensors.index.json. A config that implies
    /// more values than the files hold (a corrupted "layers" or "contextLength") is refused from
    /// the headers alone, before its layout is built; `beforeAllocating` is called before the
    /// values are read.
    static func readParameterValues(in root: String, config: ModelConfig, imported: Bool,
                                    beforeAllocating: (ModelConfig) throws -> Void = { _ in }) throws -> [Float] {
        let weights = try CheckpointWeights.open(directory: root, shardsAllowed: imported)
        let expected = try config.parameterCount()
        let held = try CheckedSize.sum(try weights.names.map { name in
            try CheckedSize.product(weights.shape(of: name) ?? [], of: "the tensors of \(weights.location)")
        }, of: "the tensors of \(weights.location)")
        guard held >= expected else {
            throw CheckpointError(path: weights.location, reason: "holds \(held) values, but \(configFileName) describes "
                                  + "a model of \(expected) parameters")
        }
        try beforeAllocating(config)
        return try parameterValues(from: weights, config: config, layout: ParameterLayout(config))
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
