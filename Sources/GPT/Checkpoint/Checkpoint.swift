// Checkpoints: a directory holding config.json, model.safetensors and tokenizer.json, in Hugging
// Face layout (see Checkpoint+HuggingFace.swift), so `transformers` can load it too. A Hub
// tokenizer's companion files (tokenizer_config.json, generation_config.json, ...) go beside it:
// they hold its BOS/EOS, which generation stops at.
//
// Saving writes a temporary sibling directory, fsyncs it and renames it over the target: an
// interrupted save never leaves a broken checkpoint, and an existing one stays until the rename.
// Loading checks every file, name, shape and dtype, and refuses bad input with one line.

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

    /// Saves `model`'s parameters, config and `tokenizer` to the directory `directory`, replacing
    /// an existing checkpoint there. Refuses to replace a directory that is not a checkpoint.
    ///
    /// `extraFiles` are written beside the model files (e.g. the training state). `companions`
    /// name entries of an existing `directory` that are not part of the checkpoint but live with it
    /// (a training log, samples, the best checkpoint): they are moved into the new directory before
    /// it is published, by rename, so open files keep writing to them, and a directory holding only
    /// companions may be written into.
    public static func save(_ model: GPTModel, tokenizer: any Tokenizer, to directory: String,
                            extraFiles: [(name: String, data: Data)] = [], companions: [String] = []) throws {
        let target = normalized(directory)
        if FileManager.default.fileExists(atPath: target) {
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: target)) ?? []
            let onlyCompanions = contents.allSatisfy { companions.contains($0) }
            guard FileIO.isDirectory(target), onlyCompanions || contents.contains(configFileName) else {
                throw CheckpointError(path: target, reason: "refusing to replace it: it exists and is not a checkpoint directory")
            }
        }
        let parent = parentDirectory(of: target)
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)

        let temporary = target + ".saving-\(getpid())"
        try? FileManager.default.removeItem(atPath: temporary)
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        var moved: [String] = []
        do {
            try writeFiles(model, tokenizer: tokenizer, into: temporary)
            for file in extraFiles { try FileIO.writeDurably(file.data, to: temporary + "/" + file.name) }
            FileIO.syncDirectory(temporary)
            for name in companions where FileManager.default.fileExists(atPath: target + "/" + name) {
                guard rename(target + "/" + name, temporary + "/" + name) == 0 else {
                    throw FileIO.systemError(target + "/" + name, "cannot move into the new checkpoint")
                }
                moved.append(name)
            }
            try publish(temporary, as: target)
            FileIO.syncDirectory(parent)
        } catch {
            for name in moved { _ = rename(temporary + "/" + name, target + "/" + name) }
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
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

    /// Renames `temporary` to `target`. Linux cannot rename over a non-empty directory, so an
    /// existing target is first moved aside and deleted only once the new one is in place.
    static func publish(_ temporary: String, as target: String) throws {
        let aside = target + ".replaced-\(getpid())"
        let hadOld = FileManager.default.fileExists(atPath: target)
        if hadOld {
            try? FileManager.default.removeItem(atPath: aside)
            guard rename(target, aside) == 0 else { throw FileIO.systemError(target, "cannot move the old checkpoint aside") }
        }
        guard rename(temporary, target) == 0 else {
            let error = FileIO.systemError(target, "cannot rename \(temporary) into place")
            if hadOld { _ = rename(aside, target) }
            throw error
        }
        if hadOld { try? FileManager.default.removeItem(atPath: aside) }
    }

    // MARK: - Load

    /// Reads config.json's model config, validated: ours (under the "gpt" key) or, when there is
    /// no "gpt" key, one that transformers wrote (GPT2LMHeadModel, LlamaForCausalLM).
    public static func readConfig(from directory: String) throws -> ModelConfig {
        try readConfigFile(in: try existingDirectory(directory)).config
    }

    /// config.json's model config, and whether it was imported from a transformers config.
    static func readConfigFile(in root: String) throws -> (config: ModelConfig, imported: Bool) {
        let path = root + "/" + configFileName
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
            file = try JSONDecoder().decode(CheckpointConfigFile.self, from: data)
            try file.gpt.validate()
        } catch let error as ModelError {
            throw CheckpointError(path: path, reason: "\(error)")
        } catch {
            throw CheckpointError(path: path, reason: FileIO.describe(error))
        }
        return (file.gpt, false)
    }

    /// Loads a checkpoint onto `backend`: the model with the saved parameters, and its tokenizer.
    /// The checkpoint is ours or a directory transformers wrote (`save_pretrained`: config.json
    /// without a "gpt" key, model.safetensors or its shards in F32, F16 or BF16, tokenizer.json).
    public static func load(from directory: String, backend: any Backend) throws -> (model: GPTModel, tokenizer: any Tokenizer) {
        let root = try existingDirectory(directory)
        let (config, imported) = try readConfigFile(in: root)
        let tokenizer = try readTokenizer(in: root, config: config, imported: imported)
        let values = try readParameterValues(in: root, config: config, imported: imported)
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
        let tokenizer = try TokenizerFile.load(from: root + "/" + TokenizerFile.fileName)
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
    /// imported checkpoint also the shards of model.safetensors.index.json.
    static func readParameterValues(in root: String, config: ModelConfig, imported: Bool) throws -> [Float] {
        let weights = try CheckpointWeights.open(directory: root, shardsAllowed: imported)
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
