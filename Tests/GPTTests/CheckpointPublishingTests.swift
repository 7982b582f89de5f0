// Issue 12, items 7-10, in process: a save replaces only the files it owns; every state a kill can
// leave (a staged save, a committed save part way into place) reads as a whole checkpoint and is
// finished or undone when the directory is next locked; the lock refuses a second holder and is
// free again once its holder is gone; an earlier version's leftovers are restored or removed.
// (CLICheckpointTests kills a real trainer at every rename.)

import Compute
import Foundation
import ReferenceBackend
import Testing
@testable import GPT
import Tokenizers

@Suite struct CheckpointPublishingTests {
    static let config = ModelConfig(vocabSize: 11, contextLength: 8, layers: 1, heads: 2, embeddingDim: 8, ffnDim: 16)
    static let tokenizer = try! CharTokenizer(corpus: "abcdefghij\n")

    static func scratch(_ name: String) -> String { NSTemporaryDirectory() + "publish-\(name)-\(UUID().uuidString)" }

    static func model(seed: UInt64) throws -> GPTModel { try GPTModel(config: config, backend: ReferenceBackend(), seed: seed) }

    static func loadedParameters(_ directory: String) throws -> [Float] {
        try Checkpoint.load(from: directory, backend: ReferenceBackend()).model.parameterValues()
    }

    static func entries(_ directory: String) throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: directory))
    }

    /// Item 9: notes and folders of the user's survive every save; files an earlier save owned and
    /// this one does not write are removed.
    @Test func savesReplaceOnlyTheirOwnFiles() throws {
        let directory = Self.scratch("own")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let extra = [(name: "run.json", data: Data("{}".utf8)), (name: "training_state.json", data: Data("{}".utf8))]
        try Checkpoint.save(try Self.model(seed: 1), tokenizer: Self.tokenizer, to: directory, extraFiles: extra)
        try "mine".write(toFile: directory + "/notes.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: directory + "/samples", withIntermediateDirectories: true)
        try "a sample".write(toFile: directory + "/samples/1.txt", atomically: true, encoding: .utf8)
        let second = try Self.model(seed: 2)
        try Checkpoint.save(second, tokenizer: Self.tokenizer, to: directory, extraFiles: [extra[0]])
        #expect(try Self.entries(directory) == [".gpt-manifest.json", "config.json", "model.safetensors", "tokenizer.json",
                                                "run.json", "notes.txt", "samples"])
        #expect(try String(contentsOfFile: directory + "/samples/1.txt", encoding: .utf8) == "a sample")
        #expect(try Self.loadedParameters(directory) == second.parameterValues())
    }

    /// Item 7: the states a kill leaves, each built by hand: before the commit the old checkpoint
    /// is read, after it the new one, and recovery leaves the directory as a finished save would.
    @Test(arguments: 0...4)
    func everyInterruptedStateReadsWholeAndRecovers(movedBeforeTheKill: Int) throws {
        let directory = Self.scratch("states"), finished = Self.scratch("finished")
        defer { for path in [directory, finished] { try? FileManager.default.removeItem(atPath: path) } }
        let old = try Self.model(seed: 1), new = try Self.model(seed: 2)
        try Checkpoint.save(old, tokenizer: Self.tokenizer, to: directory)
        try Checkpoint.save(new, tokenizer: Self.tokenizer, to: finished)
        // Stage the new files as a save does, then stop: 0 staged only; n > 0 committed, n - 1 moved.
        let staging = directory + "/" + CheckpointPublisher.stagingName
        try FileManager.default.copyItem(atPath: finished, toPath: staging)
        let committed = movedBeforeTheKill > 0
        if committed {
            let publishing = directory + "/" + CheckpointPublisher.publishingName
            try FileManager.default.moveItem(atPath: staging, toPath: publishing)
            let order = ["config.json", "model.safetensors", "tokenizer.json", ".gpt-manifest.json"]
            for name in order.prefix(movedBeforeTheKill - 1) {
                _ = rename(publishing + "/" + name, directory + "/" + name)
            }
        }
        let expected = committed ? try new.parameterValues() : try old.parameterValues()
        #expect(try Self.loadedParameters(directory) == expected)
        let lock = try CheckpointLock(directory)
        #expect(lock.recovered.count == 1)
        #expect(lock.recovered[0].hasPrefix(committed ? "completed the checkpoint save" : "removed an unfinished"))
        #expect(try Self.entries(directory) == [".gpt-lock", ".gpt-manifest.json", "config.json", "model.safetensors",
                                                "tokenizer.json"])
        #expect(try Self.loadedParameters(directory) == expected)
    }

    /// Item 10: one holder at a time; the lock goes with its holder, and names it meanwhile.
    @Test func aSecondLockIsRefusedUntilTheFirstIsGone() throws {
        let directory = Self.scratch("lock")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var first: CheckpointLock? = try CheckpointLock(directory)
        #expect(throws: CheckpointLockError(directory: directory, holder: Int(getpid()))) { _ = try CheckpointLock(directory) }
        #expect(first?.directory == directory)
        first = nil
        let second = try CheckpointLock(directory)
        #expect(second.recovered.isEmpty)
    }

    /// A lock taken on a directory it had to create, and given up before anything was written,
    /// leaves nothing behind.
    @Test func anUnusedLockRemovesTheDirectoryItCreated() throws {
        let directory = Self.scratch("unused")
        do { _ = try CheckpointLock(directory) }
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    /// Item 7: an earlier version killed between its two renames left no directory, only
    /// DIR.saving-PID (complete, holding the log) and DIR.replaced-PID.
    @Test func anEarlierVersionsLeftoversAreRestored() throws {
        let parent = Self.scratch("legacy"), directory = parent + "/run"
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let training = ["run.json", "optimizer.safetensors", "training_state.json"].map { (name: $0, data: Data("{}".utf8)) }
        let saving = directory + ".saving-999999999", replaced = directory + ".replaced-999999999"
        let new = try Self.model(seed: 2)
        try Checkpoint.save(new, tokenizer: Self.tokenizer, to: saving, extraFiles: training)
        try Checkpoint.save(try Self.model(seed: 1), tokenizer: Self.tokenizer, to: replaced, extraFiles: training)
        for path in [saving, replaced] { try FileManager.default.removeItem(atPath: path + "/.gpt-manifest.json") }
        try "step,train_loss\n".write(toFile: saving + "/log.csv", atomically: true, encoding: .utf8)
        let lock = try CheckpointLock(directory)
        #expect(lock.recovered.first == "restored \(directory) from \(saving), left by a save an earlier version did not finish")
        #expect(lock.recovered.last == "removed \(replaced), left by an interrupted save of an earlier version")
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent) == ["run"])
        #expect(FileManager.default.fileExists(atPath: directory + "/log.csv"))
        #expect(try Self.loadedParameters(directory) == new.parameterValues())
    }
}
