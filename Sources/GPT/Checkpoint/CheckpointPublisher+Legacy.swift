// Leftovers of saves made by versions before CheckpointPublisher, which wrote DIR.saving-PID beside
// the checkpoint, moved the log, samples and best/ into it, then renamed DIR to DIR.replaced-PID
// and DIR.saving-PID to DIR. A kill between those renames left no DIR at all. When a lock is taken
// on DIR (CheckpointLock), leftovers of processes that are gone are dealt with: a missing DIR is
// restored from the new copy when it is complete, else from the old one; what the old save had
// moved out of DIR goes back; the rest is removed. Each step is reported.

import FoundationEssentials
import Tokenizers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension CheckpointPublisher {
    /// What the old saves moved into their new directory.
    static let legacyCompanions = [TrainingLoop.logFileName, TrainingLoop.samplesFileName, TrainingLoop.bestDirectoryName]

    /// Restores or removes `directory`'s legacy leftovers; returns one line per thing done.
    static func recoverLegacySaves(_ directory: String) throws -> [String] {
        let parent = Checkpoint.parentDirectory(of: directory)
        let base = String(directory.split(separator: "/").last ?? "")
        guard !base.isEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return [] }
        func leftovers(_ kind: String) -> [String] {
            entries.filter { name in
                guard name.hasPrefix(base + kind), let pid = Int32(name.dropFirst(base.count + kind.count)) else { return false }
                return kill(pid, 0) != 0 && errno == ESRCH  // its process is gone
            }.sorted().map { parent + "/" + $0 }
        }
        let saving = leftovers(".saving-"), replaced = leftovers(".replaced-")
        var notes: [String] = []
        if !exists(directory) {
            // Complete: every file a training save writes is there (a Hub tokenizer's companions
            // are optional).
            let required = unlistedFiles.filter { !TokenizerFile.companionFileNames.contains($0) }
            let complete = saving.first { path in required.allSatisfy { exists(path + "/" + $0) } }
            if let source = complete ?? replaced.first(where: { exists($0 + "/" + Checkpoint.configFileName) }) {
                try move(source, to: directory)
                notes.append("restored \(directory) from \(source), left by a save an earlier version did not finish")
            }
        }
        for leftover in saving + replaced where exists(leftover) {
            if exists(directory) {
                for name in legacyCompanions where exists(leftover + "/" + name) && !exists(directory + "/" + name) {
                    try move(leftover + "/" + name, to: directory + "/" + name)
                }
            }
            try FileIO.removeTree(leftover)
            notes.append("removed \(leftover), left by an interrupted save of an earlier version")
        }
        return notes
    }
}
