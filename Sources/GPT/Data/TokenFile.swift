// Token files: a flat array of little-endian uint16 (when every id fits) or uint32 token ids, no
// header (the dtype and count live in meta.json). Written through a buffered writer; read by
// memory-mapping, so training on a corpus larger than RAM touches only the windows it samples.

import FoundationEssentials
import Tokenizers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a token file stores each id.
public enum TokenDType: String, Codable, Sendable {
    /// Little-endian unsigned integers of 16 or 32 bits.
    case uint16, uint32

    /// Bytes per token.
    public var byteCount: Int { self == .uint16 ? 2 : 4 }

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

/// A sequence of token ids that training windows are copied from: an array in memory or a mapped file.
public protocol TokenStorage {
    /// Tokens held.
    var count: Int { get }
    /// Appends tokens[start ..< start + length] to `output`.
    func appendTokens(from start: Int, count length: Int, to output: inout [Int32])
}

extension Array: TokenStorage where Element == Int32 {
    public func appendTokens(from start: Int, count length: Int, to output: inout [Int32]) {
        output.append(contentsOf: self[start ..< start + length])
    }
}

/// A token file mapped read-only into memory.
public final class MappedTokenFile: TokenStorage {
    /// The mapped file.
    public let path: String
    /// How each id is stored.
    public let dtype: TokenDType
    /// Tokens in the file.
    public let count: Int
    private let base: UnsafeRawPointer?
    private let mappedBytes: Int

    /// Maps `path`; its size must be a whole number of `dtype` tokens.
    public init(path: String, dtype: TokenDType) throws {
        self.path = path
        self.dtype = dtype
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw FileError(path: path, reason: errno == ENOENT ? "no such file" : "cannot read: \(String(cString: strerror(errno)))")
        }
        let size = Int(info.st_size)
        guard size % dtype.byteCount == 0 else {
            throw FileError(path: path, reason: "corrupted token file: \(size) bytes is not a whole number of "
                            + "\(dtype.rawValue) tokens (\(dtype.byteCount) bytes each)")
        }
        count = size / dtype.byteCount
        mappedBytes = size
        guard size > 0 else {
            base = nil
            return
        }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw FileIO.systemError(path, "cannot open") }
        defer { close(descriptor) }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let address, address != MAP_FAILED else { throw FileIO.systemError(path, "cannot map") }
        base = UnsafeRawPointer(address)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), mappedBytes) }
    }

    /// The token at `index` (0..<count).
    public subscript(index: Int) -> Int32 {
        precondition(index >= 0 && index < count, "token index \(index) outside 0..<\(count) in \(path)")
        switch dtype {
        case .uint16: return Int32(UInt16(littleEndian: base!.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)))
        case .uint32: return Int32(bitPattern: UInt32(littleEndian: base!.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)))
        }
    }

    public func appendTokens(from start: Int, count length: Int, to output: inout [Int32]) {
        precondition(start >= 0 && start + length <= count, "window \(start)..<\(start + length) outside 0..<\(count) in \(path)")
        for index in start ..< start + length { output.append(self[index]) }
    }

    /// All tokens (for tests and small files).
    public var allTokens: [Int32] {
        var tokens: [Int32] = []
        tokens.reserveCapacity(count)
        appendTokens(from: 0, count: count, to: &tokens)
        return tokens
    }
}
