// What a run was trained on, recorded in its training checkpoint (training_state.json) so a resume
// can find the data again without --data and can tell when it is given different data: the path
// (absolute, as it was when training started), the size and a SHA-256. For a text file the hash
// is the file's (`sha256sum FILE`); for a prepared directory it is the SHA-256 of the hex digests
// of train.bin and val.bin, one per line, each computed in the pass that checks their ids.

import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The identity of a corpus: where it was, how big, and its hash.
public struct DataFingerprint: Codable, Equatable, Sendable {
    /// The absolute path it was read from (for text in memory: the corpus's name).
    public var path: String
    /// Bytes: the text file's, or both token files'.
    public var bytes: Int
    /// Hex SHA-256 (see the file comment for prepared directories).
    public var sha256: String

    /// A fingerprint of these values.
    public init(path: String, bytes: Int, sha256: String) {
        self.path = path
        self.bytes = bytes
        self.sha256 = sha256
    }

    /// Of `bytes` read from `path`.
    init(path: String, contents bytes: some Collection<UInt8>) {
        var hash = SHA256()
        // A String's UTF-8 view is contiguous: hash it in place rather than copying the corpus.
        if bytes.withContiguousStorageIfAvailable({ hash.update($0) }) == nil { hash.update(Array(bytes)) }
        self.init(path: Self.absolute(path), bytes: bytes.count, sha256: hash.finalize())
    }

    /// Whether two fingerprints are of the same data, wherever each was read from.
    public func sameData(as other: DataFingerprint) -> Bool { bytes == other.bytes && sha256 == other.sha256 }

    /// "N bytes, sha256 0123456789ab…".
    var summary: String { "\(bytes) bytes, sha256 \(sha256.prefix(12))…" }

    /// `path` made absolute (resolving symbolic links) when it exists.
    static func absolute(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
