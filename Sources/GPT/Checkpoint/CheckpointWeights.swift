// The weight files of a checkpoint: one model.safetensors, or the shards that
// model.safetensors.index.json lists (how transformers' save_pretrained splits a large model).
// Every file's header is read and checked when it is opened (SafeTensorsFile); the index must
// agree with the shards exactly: each tensor it maps is in the shard it names, each tensor of a
// shard is mapped to that shard, and no tensor is in two files. Tensors are read one at a time.

import FoundationEssentials
import Tokenizers

/// Named tensors that can be checked by shape before any is read: the weight files of a
/// checkpoint, or tensors already in memory.
protocol TensorSource {
    /// Every tensor's name.
    var names: [String] { get }
    /// The stored shape of `name`, nil when there is no such tensor.
    func shape(of name: String) -> [Int]?
    /// The tensor's elements as float32, row-major.
    func values(of name: String) throws -> [Float]
    /// The file errors about `name` blame.
    func file(of name: String) -> String
    /// The file errors about the tensors as a whole blame (a missing tensor).
    var location: String { get }
}

/// A checkpoint's safetensors files, opened.
struct CheckpointWeights: TensorSource {
    /// transformers' name for the index of a sharded checkpoint.
    static let indexFileName = "model.safetensors.index.json"

    private let located: [String: (file: SafeTensorsFile, entry: SafeTensorsEntry)]
    let names: [String]
    /// The single file, or the index of the shards.
    let location: String

    /// The single file `path`.
    init(file path: String) throws {
        location = path
        let file = try SafeTensorsFile(path: path)
        located = Dictionary(uniqueKeysWithValues: file.header.entries.map { ($0.name, (file, $0)) })
        names = file.header.entries.map(\.name)
    }

    /// The shards listed by the index at `indexPath`, each checked against it.
    init(index indexPath: String) throws {
        location = indexPath
        let directory = HuggingFaceTokenizer.directory(containing: indexPath)
        let weightMap = try Self.weightMap(indexPath)
        var located: [String: (file: SafeTensorsFile, entry: SafeTensorsEntry)] = [:]
        var names: [String] = []
        let shardOf = Dictionary(uniqueKeysWithValues: weightMap.map { ($0.tensor, $0.shard) })
        // Every shard is opened (its header checked) before any is compared with the index.
        let files = try Set(weightMap.map(\.shard)).sorted().map { ($0, try SafeTensorsFile(path: directory + "/" + $0)) }
        for (shard, file) in files {
            for entry in file.header.entries {
                guard let mapped = shardOf[entry.name] else {
                    throw CheckpointError(path: file.path,
                                          reason: "tensor '\(entry.name)' is not in \(Self.indexFileName)'s weight_map")
                }
                guard mapped == shard else {
                    throw CheckpointError(path: file.path, reason: "tensor '\(entry.name)' is mapped to \(mapped) by "
                                          + "\(Self.indexFileName), but is in this shard")
                }
                located[entry.name] = (file, entry)
                names.append(entry.name)
            }
        }
        if let missing = weightMap.first(where: { located[$0.tensor] == nil }) {
            throw CheckpointError(path: directory + "/" + missing.shard,
                                  reason: "does not hold tensor '\(missing.tensor)', which \(Self.indexFileName) maps to it")
        }
        self.located = located
        self.names = names
    }

    /// The weights of the checkpoint in `directory`: model.safetensors, or (when `shardsAllowed`)
    /// the shards of model.safetensors.index.json. Both at once are refused: one would be stale.
    static func open(directory: String, shardsAllowed: Bool) throws -> CheckpointWeights {
        // Ours may be mid-publish: its new model.safetensors is then still in .gpt-publishing.
        let single = Checkpoint.filePath(Checkpoint.weightsFileName, in: directory)
        let index = directory + "/" + indexFileName
        guard shardsAllowed else { return try CheckpointWeights(file: single) }
        switch (FileManager.default.fileExists(atPath: single), FileManager.default.fileExists(atPath: index)) {
        case (true, true):
            throw CheckpointError(path: directory, reason: "holds both \(Checkpoint.weightsFileName) and \(indexFileName); "
                                  + "remove the one that is stale")
        case (true, false):
            return try CheckpointWeights(file: single)
        case (false, true):
            return try CheckpointWeights(index: index)
        case (false, false):
            let pickle = FileManager.default.fileExists(atPath: directory + "/pytorch_model.bin")
            throw CheckpointError(path: directory, reason: "no \(Checkpoint.weightsFileName) or \(indexFileName)"
                                  + (pickle ? " (pytorch_model.bin is not read: only safetensors weights are)" : ""))
        }
    }

    /// The index's weight_map: tensor name -> shard file name, in file order. Shard names must be
    /// plain file names in the same directory.
    private static func weightMap(_ path: String) throws -> [(tensor: String, shard: String)] {
        func fail(_ reason: String) -> CheckpointError { CheckpointError(path: path, reason: reason) }
        let root: JSONValue
        do {
            root = try JSONParser.parse(Array(try FileIO.readData(path)))
        } catch let error as FileError {
            throw error
        } catch {
            throw fail("\(error)")
        }
        guard let members = root.objectMembers else { throw fail("not a JSON object") }
        if let unknown = members.first(where: { !["metadata", "weight_map"].contains($0.key) }) {
            throw fail("unknown key '\(unknown.key)' (an index holds metadata and weight_map)")
        }
        guard let map = root.member("weight_map")?.objectMembers, !map.isEmpty else {
            throw fail("weight_map must be a non-empty object of tensor name -> shard file")
        }
        var seen = Set<String>()
        return try map.map { tensor, value in
            guard seen.insert(tensor).inserted else { throw fail("weight_map lists '\(tensor)' twice") }
            guard let shard = value.stringValue, !shard.isEmpty, !shard.contains("/"), shard != ".", shard != ".." else {
                throw fail("weight_map['\(tensor)'] must name a file in the checkpoint directory, got \(value.kindDescription)")
            }
            return (tensor, shard)
        }
    }

    func shape(of name: String) -> [Int]? { located[name]?.entry.shape }

    func values(of name: String) throws -> [Float] {
        guard let (file, entry) = located[name] else {
            throw CheckpointError(path: location, reason: "no tensor '\(name)'")
        }
        return try file.values(of: entry)
    }

    func file(of name: String) -> String { located[name]?.file.path ?? location }
}

/// Tensors already in memory (a decoded file).
struct InMemoryTensors: TensorSource {
    let tensors: [String: NamedTensor]
    let names: [String]
    let location: String

    init(_ list: [NamedTensor], file: String) {
        var tensors: [String: NamedTensor] = [:]
        for tensor in list { tensors[tensor.name] = tensor }
        self.tensors = tensors
        names = list.map(\.name)
        location = file
    }

    func shape(of name: String) -> [Int]? { tensors[name]?.shape }
    func values(of name: String) throws -> [Float] { tensors[name]?.values ?? [] }
    func file(of name: String) -> String { location }
}
