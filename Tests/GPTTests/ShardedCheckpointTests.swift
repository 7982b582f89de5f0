// Sharded checkpoints: the llama-tied-f32 fixture split into shards with a
// model.safetensors.index.json loads to the same parameters as the single file, and an index that
// disagrees with its shards in any way is refused in one line naming the file.

import Foundation
import ReferenceBackend
import Testing
import TestSupport
import Tokenizers
@testable import GPT

@Suite struct ShardedCheckpointTests {
    static let fixture = HuggingFaceFixtures.modelDirectory("llama-tied-f32")

    /// The fixture in a new directory with its weights in `shards` files (round-robin) and an
    /// index; `editIndex` may change the index's weight_map before it is written.
    static func shardedCopy(shards: Int = 3, editIndex: (inout [String: String]) -> Void = { _ in }) throws -> String {
        let directory = NSTemporaryDirectory() + "sharded-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in ["config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"] {
            try FileManager.default.copyItem(atPath: fixture + "/" + name, toPath: directory + "/" + name)
        }
        let tensors = try SafeTensors.read(fixture + "/model.safetensors")
        var weightMap: [String: String] = [:]
        for shard in 0..<shards {
            let name = "model-\(shard + 1)-of-\(shards).safetensors"
            let part = tensors.enumerated().filter { $0.offset % shards == shard }.map(\.element)
            try SafeTensors.write(part, to: directory + "/" + name)
            for tensor in part { weightMap[tensor.name] = name }
        }
        editIndex(&weightMap)
        let index: [String: Any] = ["metadata": ["total_size": 0], "weight_map": weightMap]
        try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: directory + "/" + CheckpointWeights.indexFileName))
        return directory
    }

    static func loadError(_ directory: String) -> String? {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            _ = try Checkpoint.load(from: directory, backend: ReferenceBackend())
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func shardsLoadTheSameParametersAsOneFile() throws {
        let directory = try Self.shardedCopy()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sharded = try Checkpoint.load(from: directory, backend: ReferenceBackend()).model
        let single = try Checkpoint.load(from: Self.fixture, backend: ReferenceBackend()).model
        #expect(try sharded.parameterValues().map(\.bitPattern) == single.parameterValues().map(\.bitPattern))
    }

    @Test func indexThatDisagreesWithItsShardsIsRefused() throws {
        let firstShard = "model-1-of-3.safetensors"
        let cases: [(String, String, String)] = [
            ("a tensor missing from the index", try Self.shardedCopy { $0["model.norm.weight"] = nil },
             "tensor 'model.norm.weight' is not in model.safetensors.index.json's weight_map"),
            ("a tensor mapped to the wrong shard",
             try Self.shardedCopy { map in map["model.norm.weight"] = map["model.norm.weight"] == firstShard ? "model-2-of-3.safetensors" : firstShard },
             "tensor 'model.norm.weight' is mapped to"),
            ("a tensor no shard holds", try Self.shardedCopy { $0["model.layers.9.mlp.up_proj.weight"] = firstShard },
             "does not hold tensor 'model.layers.9.mlp.up_proj.weight'"),
            ("a shard outside the directory", try Self.shardedCopy { $0["model.norm.weight"] = "../model.safetensors" },
             "must name a file in the checkpoint directory"),
            ("a missing shard", try Self.shardedCopy { $0["model.norm.weight"] = "model-9-of-3.safetensors" },
             "model-9-of-3.safetensors: no such file"),
        ]
        for (name, directory, expected) in cases {
            let message = Self.loadError(directory)
            #expect(message?.contains(expected) == true, "\(name): \(message ?? "loaded")")
            #expect(message?.contains("\n") == false, "\(name)")
        }
    }

    @Test func ambiguousOrMissingWeightsAreRefused() throws {
        let both = try Self.shardedCopy()
        try FileManager.default.copyItem(atPath: Self.fixture + "/model.safetensors", toPath: both + "/model.safetensors")
        #expect(Self.loadError(both)?.contains("holds both model.safetensors and model.safetensors.index.json") == true)

        let none = try Self.shardedCopy()
        try FileManager.default.removeItem(atPath: none + "/" + CheckpointWeights.indexFileName)
        try Data("not a safetensors file".utf8).write(to: URL(fileURLWithPath: none + "/pytorch_model.bin"))
        #expect(Self.loadError(none)?.contains("pytorch_model.bin is not read") == true)

        let extraKey = try Self.shardedCopy()
        try Data(#"{"weight_map": {"model.norm.weight": "model-1-of-3.safetensors"}, "shards": 3}"#.utf8)
            .write(to: URL(fileURLWithPath: extraKey + "/" + CheckpointWeights.indexFileName))
        #expect(Self.loadError(extraKey)?.contains("unknown key 'shards'") == true)
    }

    /// A damaged shard gets the same header checks as a single file, naming the shard.
    @Test func everyShardsHeaderIsChecked() throws {
        let directory = try Self.shardedCopy()
        let shard = directory + "/model-2-of-3.safetensors"
        let data = try Data(contentsOf: URL(fileURLWithPath: shard))
        try data.prefix(data.count - 4).write(to: URL(fileURLWithPath: shard))
        let message = try #require(Self.loadError(directory))
        #expect(message.hasPrefix(shard + ": invalid safetensors file: ") && message.contains("truncated"), "\(message)")
    }
}
