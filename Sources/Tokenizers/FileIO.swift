// Small file helpers shared by datasets, tokenizers and checkpoints: read a whole file with a clear
// error, write one durably (fsync before the caller renames it into place), and turn Codable
// decoding failures into one readable line.

import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file that could not be read or written: the path and what went wrong, in one line.
public struct FileError: Error, CustomStringConvertible, Equatable {
    /// The file at fault.
    public let path: String
    /// What went wrong.
    public let reason: String

    /// An error about `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// "PATH: REASON", one line.
    public var description: String { "\(path): \(reason)" }
}

/// Reading and writing whole files with one-line errors.
public enum FileIO {
    /// The whole file as bytes. It must be a regular file (see `openRegularFile`); missing files,
    /// directories, pipes and devices get their own messages.
    public static func readData(_ path: String) throws -> Data {
        let descriptor = try openRegularFile(path)
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw systemError(path, "cannot read") }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var done = 0
        while done < bytes.count {
            let got = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + done, $0.count - done) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw systemError(path, "cannot read") }
            guard got > 0 else { throw FileError(path: path, reason: "cannot read: the file shrank while being read") }
            done += got
        }
        return Data(bytes)
    }

    /// Opens `path` for reading: it must be a regular file (a pipe or a device may never end, and
    /// its size is unknown). Returns the descriptor, which the caller closes.
    public static func openRegularFile(_ path: String) throws -> Int32 {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK)  // a FIFO must not block the open itself
        guard descriptor >= 0 else {
            switch errno {
            case ENOENT: throw FileError(path: path, reason: "no such file")
            case EISDIR: throw FileError(path: path, reason: "is a directory, expected a file")
            default: throw systemError(path, "cannot open")
            }
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let error = systemError(path, "cannot read")
            close(descriptor)
            throw error
        }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG else {
            close(descriptor)
            let what = kind == S_IFDIR ? "is a directory" : kind == S_IFIFO ? "is a pipe (FIFO)"
                : kind == S_IFCHR ? "is a character device" : kind == S_IFSOCK ? "is a socket" : "is not a regular file"
            throw FileError(path: path, reason: "\(what), expected a regular file")
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        return descriptor
    }

    /// Creates the directory `path` and any missing parents (an existing directory is fine), with
    /// errors that say why: a read-only file system, a parent that is a file, no permission.
    public static func makeDirectory(_ path: String) throws {
        guard !path.isEmpty else { throw FileError(path: path, reason: "an empty path is not a directory name") }
        if isDirectory(path) { return }
        var current = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            current += (current.isEmpty || current.hasSuffix("/") ? "" : "/") + component
            if isDirectory(current) { continue }
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                if errno == ENOTDIR { throw FileError(path: path, reason: "cannot create directory: a parent is not a directory") }
                throw systemError(path, "cannot create directory")
            }
            guard isDirectory(current) else {
                throw FileError(path: path, reason: "cannot create directory: \(current) exists and is not a directory")
            }
        }
    }

    /// Removes `path` and, when it is a directory, everything in it (symbolic links are removed,
    /// not followed); a missing path is fine. Errors name the entry that could not go and why.
    public static func removeTree(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw systemError(path, "cannot remove")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in try FileManager.default.contentsOfDirectory(atPath: path) { try removeTree(path + "/" + name) }
            guard rmdir(path) == 0 else { throw systemError(path, "cannot remove") }
        } else {
            guard unlink(path) == 0 else { throw systemError(path, "cannot remove") }
        }
    }

    /// Whether `path` names an existing directory (following symbolic links).
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The whole file as UTF-8 text.
    public static func readText(_ path: String) throws -> String {
        let data = try readData(path)
        guard let text = String(validating: data, as: UTF8.self) else {
            throw FileError(path: path, reason: "not valid UTF-8 text")
        }
        return text
    }

    /// Writes `data` to `path` (created or truncated) and fsyncs it, so that a later rename of the
    /// containing directory publishes complete contents even after a crash.
    public static func writeDurably(_ data: Data, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw systemError(path, "cannot create") }
        defer { close(descriptor) }
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var written = 0
            while written < raw.count {
                let result = write(descriptor, raw.baseAddress! + written, raw.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    throw systemError(path, "cannot write")
                }
                written += result
            }
        }
        guard fsync(descriptor) == 0 else { throw systemError(path, "cannot sync") }
    }

    /// fsyncs a directory so that renames inside it survive a crash (best effort: some file
    /// systems refuse to open directories for syncing).
    public static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    /// A `FileError` for `path`: `what` failed, with the C library's reason (`errno`).
    public static func systemError(_ path: String, _ what: String) -> FileError {
        FileError(path: path, reason: "\(what): \(String(cString: strerror(errno)))")
    }

    /// One line for a Codable decoding failure: which key, and what was wrong with it.
    public static func describe(_ error: Error) -> String {
        guard let decodingError = error as? DecodingError else { return "\(error)" }
        func keyPath(_ path: [CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch decodingError {
        case let .keyNotFound(key, context):
            let parent = keyPath(context.codingPath)
            return "missing key '\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)'"
        case let .typeMismatch(type, context):
            return "key '\(keyPath(context.codingPath))' has the wrong type (expected \(type))"
        case let .valueNotFound(type, context):
            return "key '\(keyPath(context.codingPath))' is null (expected \(type))"
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty { return "not valid JSON" }
            return "key '\(keyPath(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    /// Decodes a JSON file into `T`, with one-line errors naming the file and the key.
    public static func decodeJSON<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
        try decodeJSON(type, data: try readData(path), path: path)
    }

    /// `decodeJSON(_:from:)` for `data` already read from `path` (which names it in errors).
    public static func decodeJSON<T: Decodable>(_ type: T.Type, data: Data, path: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.dataCorrupted(context) where context.codingPath.isEmpty {
            // JSONDecoder says "not valid JSON" for a valid number of the wrong kind (4.5 or 1e19
            // for an integer) too: find which.
            throw FileError(path: path, reason: JSONDiagnosis.misfitNumber(in: data, decoding: T.self) ?? "not valid JSON")
        } catch {
            throw FileError(path: path, reason: describe(error))
        }
    }
}
