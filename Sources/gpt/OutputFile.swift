// Where a command writes its results, checked before the work that makes them starts, so a path
// that cannot be written (a directory, a missing folder) costs nothing; and for generate's
// prompts file, a results file written as the work goes (PATH.partial, renamed to PATH once it is
// complete) so a full disk is found at the first block, not after every completion is made.

import FoundationEssentials
import Tokenizers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Refuses `path` (given as `flag`) before any work: it must not be a directory, and its
/// directory must exist.
func checkOutputPath(_ path: String, flag: String) throws {
    if FileIO.isDirectory(path) { throw RuntimeError("\(flag) \(path): is a directory, expected a file") }
    let slash = path.lastIndex(of: "/")
    let parent = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
    guard FileIO.isDirectory(parent) else {
        throw RuntimeError("\(flag) \(path): " + (FileManager.default.fileExists(atPath: parent)
            ? "\(parent) is not a directory" : "no such directory \(parent)"))
    }
}

/// A file written block by block into PATH.partial and renamed over PATH by `finish`; abandoned
/// (the partial file removed) when the work fails first. A PATH that exists and is not itself a
/// regular file (a symbolic link such as /dev/stdout, a pipe, a device) is written in place:
/// renaming over it would replace it (as root, /dev/full or the /dev/stdout link).
final class StreamedOutput {
    let path: String
    /// Where the blocks go: PATH.partial, or PATH itself when it is not a regular file.
    private let partial: String
    private var file: UnsafeMutablePointer<FILE>?

    init(path: String, flag: String) throws {
        try checkOutputPath(path, flag: flag)
        self.path = path
        var info = stat()
        let inPlace = lstat(path, &info) == 0 && (info.st_mode & S_IFMT) != S_IFREG
        partial = inPlace ? path : path + ".partial"
        guard let file = fopen(partial, "w") else { throw FileIO.systemError(partial, "cannot create") }
        self.file = file
    }

    /// Appends `text` and flushes it, so a write error shows at once.
    func append(_ text: String) throws {
        guard let file else { return }
        guard fputs(text, file) >= 0, fflush(file) == 0 else { throw FileIO.systemError(partial, "cannot write") }
    }

    /// Syncs the file and renames it to `path`.
    func finish() throws {
        guard let file else { return }
        self.file = nil
        let synced = fflush(file) == 0 && fsync(fileno(file)) == 0
        fclose(file)
        guard synced || partial == path && errno == EINVAL else { throw FileIO.systemError(partial, "cannot write") }
        guard partial != path else { return }  // written in place (fsync of a pipe or device: EINVAL)
        guard rename(partial, path) == 0 else { throw FileIO.systemError(path, "cannot rename \(partial) to it") }
    }

    deinit {
        if let file {
            fclose(file)
            if partial != path { unlink(partial) }
        }
    }
}
