// One trainer per checkpoint directory: an advisory lock (flock) on DIR/.gpt-lock, taken before a
// run loads anything and held while its process lives. The kernel drops it when the process ends,
// by a crash or a kill too, so it never needs clearing by hand; a second trainer on the same
// directory is refused at once, naming the first one's pid, instead of racing it. Taking the lock
// is also when an interrupted save is finished or undone (CheckpointPublisher.recover), the
// directory's and best/'s, and the leftovers of an earlier version's saves are dealt with
// (CheckpointPublisher+Legacy.swift): nobody else can be writing then.

import FoundationEssentials
import Tokenizers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A checkpoint directory another process is training into.
public struct CheckpointLockError: Error, CustomStringConvertible, Equatable {
    /// The directory.
    public let directory: String
    /// The holder's process id, when its lock file says.
    public let holder: Int?

    public var description: String {
        "\(directory): another gpt train" + (holder.map { " (pid \($0))" } ?? "") + " is writing this checkpoint "
            + "directory; wait for it to finish or choose another output directory"
    }
}

/// Exclusive use of a checkpoint directory, for as long as this object lives.
public final class CheckpointLock: Sendable {
    /// The lock file's name in the directory.
    public static let fileName = ".gpt-lock"

    /// The locked directory (normalized).
    public let directory: String
    /// What taking the lock found and did about interrupted saves, one line each (empty: nothing).
    public let recovered: [String]
    private let descriptor: Int32
    /// The directory did not exist before: removed again if the run ends before writing into it.
    private let createdDirectory: Bool

    /// Creates `directory` when missing, locks it (throwing `CheckpointLockError` when another
    /// process holds it) and recovers interrupted saves in it.
    public init(_ directory: String) throws {
        let root = Checkpoint.normalized(directory)
        var notes = try CheckpointPublisher.recoverLegacySaves(root)
        let existed = FileIO.isDirectory(root)
        try FileIO.makeDirectory(root)
        self.directory = root
        createdDirectory = !existed
        descriptor = try Self.lockFile(in: root)
        for nested in [root, root + "/" + TrainingLoop.bestDirectoryName] {
            if let note = try CheckpointPublisher.recover(nested) { notes.append(note) }
        }
        recovered = notes
    }

    deinit {
        // A run refused before it wrote anything leaves no directory behind.
        if createdDirectory, (try? FileManager.default.contentsOfDirectory(atPath: directory)) == [Self.fileName] {
            unlink(directory + "/" + Self.fileName)
            rmdir(directory)
        }
        close(descriptor)
    }

    /// Opens and flocks DIR/.gpt-lock, writing this pid into it. Retries when the file it locked
    /// was removed meanwhile (a run that created the directory and was refused), so two processes
    /// can never hold locks on different files of one directory.
    private static func lockFile(in directory: String) throws -> Int32 {
        let path = directory + "/" + fileName
        while true {
            let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw FileIO.systemError(path, "cannot create the lock file") }
            guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
                let busy = errno == EWOULDBLOCK
                let error = busy ? nil : FileIO.systemError(path, "cannot lock")
                let holder = busy ? readHolder(descriptor) : nil
                close(descriptor)
                if let error { throw error }
                throw CheckpointLockError(directory: directory, holder: holder)
            }
            var locked = stat(), current = stat()
            guard fstat(descriptor, &locked) == 0, stat(path, &current) == 0, locked.st_ino == current.st_ino else {
                close(descriptor)
                continue
            }
            let pid = Array("\(getpid())\n".utf8)
            _ = ftruncate(descriptor, 0)
            _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
            return descriptor
        }
    }

    private static func readHolder(_ descriptor: Int32) -> Int? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int(String(decoding: bytes[..<count], as: UTF8.self).filter(\.isNumber))
    }
}
