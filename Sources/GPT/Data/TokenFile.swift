// Token files: a flat array of little-endian uint16 (when every id fits) or uint32 token ids, no
// header (the dtype and count live in meta.json). Written through a buffered writer. Read window
// by window with pread(2), not memory-mapped: a corpus larger than RAM still touches only the
// windows it samples (through the page cache), and a file truncated or rewritten while a run
// reads it is a thrown error naming the file and offset, never a SIGBUS. Every id read is checked
// against the vocabulary, so a file changed in place cannot hand an embedding an id it lacks.

import FoundationEssentials
import Tokenizers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a token file stores each id.
public enum TokenDType: String, Codable, Sendable, CaseIterable {
    /// Little-endian unsigned integers of 16 or 32 bits.
    case uint16, uint32

    /// Bytes per token.
    public var byteCount: Int { self == .uint16 ? 2 : 4 }

    /// Decodes a case from its name; another name is an error that lists the cases.
    public init(from decoder: any Decoder) throws { self = try Self.decodeChoice(from: decoder) }

    /// uint16 for vocabularies of at most 65,535 tokens, else uint32.
    public static func fitting(vocabularySize: Int) -> TokenDType {
        vocabularySize <= 65_535 ? .uint16 : .uint32
    }
}

/// Appends tokens to a new file; `finish` flushes and fsyncs it.
public final class TokenFileWriter {
    /// The file being written.
    public let path: String
    /// How each id is stored.
    public let dtype: TokenDType
    /// Tokens appended so far.
    public private(set) var count = 0
    private var file: UnsafeMutablePointer<FILE>?
    private var buffer: [UInt8] = []

    /// Creates (or truncates) `path`.
    public init(path: String, dtype: TokenDType) throws {
        self.path = path
        self.dtype = dtype
        guard let file = fopen(path, "wb") else { throw FileIO.systemError(path, "cannot create") }
        self.file = file
        buffer.reserveCapacity(1 << 20)
    }

    deinit { if let file { fclose(file) } }

    /// Buffers `tokens`, writing full buffers to the file.
    public func append(_ tokens: [Int32]) throws {
        for token in tokens {
            let value = UInt32(bitPattern: token)
            buffer.append(UInt8(truncatingIfNeeded: value))
            buffer.append(UInt8(truncatingIfNeeded: value >> 8))
            if dtype == .uint32 {
                buffer.append(UInt8(truncatingIfNeeded: value >> 16))
                buffer.append(UInt8(truncatingIfNeeded: value >> 24))
            }
        }
        count += tokens.count
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        guard let file else { return }
        let written = buffer.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        guard written == buffer.count else { throw FileIO.systemError(path, "cannot write") }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered, flushes and fsyncs the file, and closes it.
    public func finish() throws {
        try flush()
        guard let file else { return }
        self.file = nil
        guard fflush(file) == 0, fsync(fileno(file)) == 0 else {
            fclose(file)
            throw FileIO.systemError(path, "cannot sync")
        }
        fclose(file)
    }
}

/// A sequence of token ids that training windows are copied from: an array in memory or a file.
public protocol TokenStorage {
    /// Tokens held.
    var count: Int { get }
    /// Appends tokens[start ..< start + length] to `output`; a file that can no longer give them
    /// throws a `TokenFileError`.
    func appendTokens(from start: Int, count length: Int, to output: inout [Int32]) throws
}

extension Array: TokenStorage where Element == Int32 {
    public func appendTokens(from start: Int, count length: Int, to output: inout [Int32]) {
        output.append(contentsOf: self[start ..< start + length])
    }
}

/// A token file that stopped giving what it held when it was opened: it shrank, a read failed,
/// or it holds an id outside the vocabulary (it was rewritten while a run read it).
public struct TokenFileError: Error, CustomStringConvertible, Equatable {
    /// The file.
    public let path: String
    /// What went wrong, with the byte offset where it did.
    public let reason: String

    public var description: String { "\(path): \(reason)" }
}

/// A token file open for reading windows of ids.
public final class TokenFile: TokenStorage {
    /// The file.
    public let path: String
    /// How each id is stored.
    public let dtype: TokenDType
    /// Tokens in the file when it was opened.
    public let count: Int
    /// Ids must be below it (nil: any id the dtype holds).
    public let vocabularySize: Int?
    /// The file's SHA-256 as it was opened, computed in the pass that checks its ids (nil when
    /// opened without a vocabulary).
    public private(set) var sha256: String?
    private let descriptor: Int32
    /// The bytes of the last window read (reused: one allocation per file).
    private var scratch: [UInt8] = []

    /// Opens `path`; its size must be a whole number of `dtype` tokens.
    public init(path: String, dtype: TokenDType, vocabularySize: Int? = nil) throws {
        self.path = path
        self.dtype = dtype
        self.vocabularySize = vocabularySize
        let descriptor = try FileIO.openRegularFile(path)  // a FIFO must not block the open
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            close(descriptor)
            throw FileIO.systemError(path, "cannot read")
        }
        let size = Int(info.st_size)
        guard size % dtype.byteCount == 0 else {
            close(descriptor)
            throw FileError(path: path, reason: "corrupted token file: \(size) bytes is not a whole number of "
                            + "\(dtype.rawValue) tokens (\(dtype.byteCount) bytes each)")
        }
        self.descriptor = descriptor
        count = size / dtype.byteCount
        if vocabularySize != nil { try checkEveryToken() }
    }

    /// One streaming pass over the whole file (1 MiB at a time): every id must be in the
    /// vocabulary, so a bad file fails when it is opened, naming the byte, and not at whichever
    /// step first samples the bad window.
    private func checkEveryToken() throws {
        let chunk = (1 << 20) / dtype.byteCount
        var window: [Int32] = []
        window.reserveCapacity(chunk)
        var hash = SHA256(), start = 0
        while start < count {
            window.removeAll(keepingCapacity: true)
            let length = min(chunk, count - start)
            do {
                try appendTokens(from: start, count: length, to: &window)
            } catch let error as TokenFileError {
                throw FileError(path: error.path, reason: error.reason)
            }
            scratch.withUnsafeBufferPointer { hash.update(UnsafeBufferPointer(rebasing: $0[..<(length * dtype.byteCount)])) }
            start += chunk
        }
        sha256 = hash.finalize()
    }

    deinit { close(descriptor) }

    public func appendTokens(from start: Int, count length: Int, to output: inout [Int32]) throws {
        guard start >= 0, length >= 0, start <= count - length else {
            throw TokenFileError(path: path, reason: "tokens \(start)..<\(start + length) are outside the "
                                 + "\(count) it held when opened")
        }
        let width = dtype.byteCount, byteOffset = start * width
        try read(bytes: length * width, at: byteOffset)
        output.reserveCapacity(output.count + length)
        try scratch.withUnsafeBytes { raw in
            for index in 0..<length {
                let id = dtype == .uint16 ? Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)))
                    : Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)))
                if let vocabularySize, id >= vocabularySize {
                    throw outOfVocabulary(id, at: byteOffset + index * width)
                }
                output.append(Int32(truncatingIfNeeded: id))
            }
        }
    }

    /// All tokens (for tests and small files).
    public var allTokens: [Int32] {
        get throws {
            var tokens: [Int32] = []
            try appendTokens(from: 0, count: count, to: &tokens)
            return tokens
        }
    }

    /// Reads `bytes` bytes at `offset` into `scratch`; a short read means the file shrank.
    private func read(bytes: Int, at offset: Int) throws {
        if scratch.count < bytes { scratch = [UInt8](repeating: 0, count: bytes) }
        var done = 0
        while done < bytes {
            let got = scratch.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, bytes - done, off_t(offset + done)) }
            if got < 0 && errno == EINTR { continue }
            if got < 0 { throw TokenFileError(path: path, reason: "cannot read at byte \(offset + done): \(String(cString: strerror(errno)))") }
            if got == 0 { throw shrank(reading: offset + done) }
            done += got
        }
    }

    private func shrank(reading offset: Int) -> TokenFileError {
        var info = stat()
        let now = fstat(descriptor, &info) == 0 ? "\(info.st_size) bytes" : "fewer bytes"
        return TokenFileError(path: path, reason: "the file shrank while in use: it held \(count * dtype.byteCount) bytes "
                              + "when opened, now \(now) (reading byte \(offset))")
    }

    func outOfVocabulary(_ id: Int, at offset: Int) -> TokenFileError {
        TokenFileError(path: path, reason: "token at byte \(offset) is \(id), outside the vocabulary 0..<\(vocabularySize ?? 0)")
    }
}
