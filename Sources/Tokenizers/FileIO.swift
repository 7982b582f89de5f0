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
    /// The whole file as bytes. Missing files and directories get their own messages.
    public static func readData(_ path: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: path) else {
            throw FileError(path: path, reason: "no such file")
        }
        if isDirectory(path) { throw FileError(path: path, reason: "is a directory, expected a file") }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw FileError(path: path, reason: "cannot read: \(String(cString: strerror(errno)))")
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
        let data = try readData(path)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw FileError(path: path, reason: describe(error))
        }
    }
}
