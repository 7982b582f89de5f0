// How a checkpoint is saved so that a kill at any instant leaves a readable checkpoint and a state
// the next run can finish or undo. In one line: the new files are staged in DIR/.gpt-staging, the
// rename of that directory to DIR/.gpt-publishing is the commit, then each file is renamed over its
// namesake in DIR; a restart deletes a staging directory (roll back) and finishes a publishing one
// (roll forward), and a reader takes a file from .gpt-publishing while it is still there, so from
// the commit on it reads the new set, before it the old one.
//
//   1. write every file into DIR/.gpt-staging, fsynced, with a manifest naming them;
//   2. rename .gpt-staging to .gpt-publishing (the commit), fsync DIR;
//   3. rename each file from .gpt-publishing over DIR/NAME (atomic per file), delete the files the
//      old manifest named and the new one does not, move the manifest, remove .gpt-publishing.
//
// DIR itself never moves, so an open log in it keeps writing, its advisory lock stays put
// (CheckpointLock), and nothing but the files a manifest names is ever replaced or deleted: a
// user's notes, a samples folder or a log the user pointed into DIR are left alone.

import FoundationEssentials
import Tokenizers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The files a checkpoint directory's last save wrote (DIR/.gpt-manifest.json).
struct CheckpointManifest: Codable, Equatable {
    static let fileName = ".gpt-manifest.json"
    static let currentVersion = 1

    var formatVersion = CheckpointManifest.currentVersion
    var files: [String]
}

enum CheckpointPublisher {
    static let stagingName = ".gpt-staging"
    static let publishingName = ".gpt-publishing"
    /// What a model checkpoint written before manifests existed may hold (it has config.json).
    static let unlistedModelFiles = [Checkpoint.configFileName, Checkpoint.weightsFileName, TokenizerFile.fileName,
                                     Checkpoint.runConfigFileName] + TokenizerFile.companionFileNames
    /// The same for a training checkpoint.
    static let unlistedFiles = unlistedModelFiles + [Checkpoint.optimizerFileName, TrainingState.fileName]

    /// Publishes the files `write` puts into the staging directory it is given, which must be
    /// exactly `names`, into `directory` (created when missing). Refuses to replace a file of the
    /// same name that no earlier save wrote.
    static func publish(into directory: String, names: [String], write: (_ staging: String) throws -> Void) throws {
        try FileIO.makeDirectory(directory)
        try recover(directory)  // a save interrupted before this one: finish or undo it first
        let owned = Set(ownedFiles(directory))
        if let clash = names.first(where: { !owned.contains($0) && exists(directory + "/" + $0) }) {
            throw CheckpointError(path: directory, reason: "refusing to replace \(clash): it was not written by a "
                                  + "checkpoint save (the directory has no \(CheckpointManifest.fileName) or "
                                  + "\(Checkpoint.configFileName))")
        }
        let staging = directory + "/" + stagingName
        try FileIO.makeDirectory(staging)
        do {
            try write(staging)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try FileIO.writeDurably(try encoder.encode(CheckpointManifest(files: names)),
                                    to: staging + "/" + CheckpointManifest.fileName)
            FileIO.syncDirectory(staging)
        } catch {
            try? FileIO.removeTree(staging)
            throw error
        }
        try move(staging, to: directory + "/" + publishingName)  // the commit
        FileIO.syncDirectory(directory)
        try rollForward(directory)
    }

    /// Finishes (a committed save) or undoes (a staged one) a save interrupted in `directory`;
    /// returns what it did, nil when there was nothing to do.
    @discardableResult
    static func recover(_ directory: String) throws -> String? {
        var notes: [String] = []
        if exists(directory + "/" + publishingName) {
            try rollForward(directory)
            notes.append("completed the checkpoint save that was interrupted in \(directory)")
        }
        let staging = directory + "/" + stagingName
        if exists(staging) {
            try FileIO.removeTree(staging)
            notes.append("removed an unfinished checkpoint save from \(directory) (its last complete checkpoint is kept)")
        }
        return notes.isEmpty ? nil : notes.joined(separator: "; ")
    }

    /// Step 3: moves a committed set into place. Every step can be repeated, so a kill part way
    /// leaves work a later call finishes.
    private static func rollForward(_ directory: String) throws {
        let publishing = directory + "/" + publishingName
        let manifestPath = publishing + "/" + CheckpointManifest.fileName
        if exists(manifestPath) {
            let incoming = try readManifest(manifestPath)
            for name in incoming.files where exists(publishing + "/" + name) {
                try move(publishing + "/" + name, to: directory + "/" + name)
            }
            for stale in ownedFiles(directory) where !incoming.files.contains(stale) {
                _ = unlink(directory + "/" + stale)
            }
            try move(manifestPath, to: directory + "/" + CheckpointManifest.fileName)
            FileIO.syncDirectory(directory)
        }
        try FileIO.removeTree(publishing)
        FileIO.syncDirectory(directory)
    }

    /// Where a reader finds file `name` of the checkpoint in `directory`: in .gpt-publishing while
    /// a committed save has not moved it into place yet, else in the directory.
    static func path(of name: String, in directory: String) -> String {
        let pending = directory + "/" + publishingName + "/" + name
        return exists(pending) ? pending : directory + "/" + name
    }

    /// The files `directory`'s checkpoint owns: its manifest's, or for a checkpoint saved before
    /// manifests existed (it has config.json) the checkpoint files it holds; none otherwise.
    static func ownedFiles(_ directory: String) -> [String] {
        let manifest = directory + "/" + CheckpointManifest.fileName
        if exists(manifest), let files = try? readManifest(manifest).files { return files }
        guard exists(directory + "/" + Checkpoint.configFileName) else { return [] }
        return unlistedFiles.filter { exists(directory + "/" + $0) }
    }

    private static func readManifest(_ path: String) throws -> CheckpointManifest {
        let manifest = try FileIO.decodeJSON(CheckpointManifest.self, from: path)
        guard manifest.formatVersion == CheckpointManifest.currentVersion,
              manifest.files.allSatisfy({ !$0.isEmpty && !$0.contains("/") && !$0.hasPrefix(".") }) else {
            throw CheckpointError(path: path, reason: "not a checkpoint manifest this version reads")
        }
        return manifest
    }

    /// rename(2), atomic: the one way a save changes what a reader of the directory sees.
    static func move(_ source: String, to destination: String) throws {
        PublishFaultInjection.beforeRename()
        guard rename(source, destination) == 0 else {
            throw FileIO.systemError(destination, "cannot rename \(source) into place")
        }
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }
}
