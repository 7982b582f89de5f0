// A safetensors file opened for reading one tensor at a time: only the 8-byte length and the
// header are read when it is opened (bounded by the file's size and the format's limit, then
// checked as SafeTensorsHeader checks every header), and each tensor's bytes are read with pread
// and widened to float32 when asked for. Loading a checkpoint therefore holds the parameters once
// plus one tensor's bytes, not a copy of every file, and a header that does not fit its file is
// refused before anything its sizes imply is allocated.

import FoundationEssentials
import Tokenizers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open safetensors file with its checked header.
final class SafeTensorsFile {
    /// The path, as errors name it.
    let path: String
    /// Every tensor's entry, in data order.
    let header: SafeTensorsHeader
    private let descriptor: Int32

    /// Opens `path` and reads and checks its header.
    init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw FileError(path: path, reason: "no such file") }
        if FileIO.isDirectory(path) { throw FileError(path: path, reason: "is a directory, expected a file") }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw FileIO.systemError(path, "cannot open") }
        do {
            var info = stat()
            guard fstat(descriptor, &info) == 0 else { throw FileIO.systemError(path, "cannot read") }
            let size = Int(info.st_size)
            let fail = { (reason: String) in SafeTensorsError(file: path, tensor: nil, reason: reason) }
            var prefix = [UInt8](repeating: 0, count: 8)
            if size >= 8 { try Self.read(descriptor, into: &prefix, at: 0, path: path) }
            let length = try SafeTensorsHeader.headerLength(
                prefix: prefix.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) },
                fileSize: size, fail: fail)
            var json = [UInt8](repeating: 0, count: length)
            try Self.read(descriptor, into: &json, at: 8, path: path)
            header = try SafeTensorsHeader(json: json, dataLength: size - 8 - length, file: path)
        } catch {
            close(descriptor)
            throw error
        }
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// The entry named `name`, if the file holds it.
    func entry(named name: String) -> SafeTensorsEntry? { header.entries.first { $0.name == name } }

    /// The tensor's elements as float32, row-major.
    func values(of entry: SafeTensorsEntry) throws -> [Float] {
        var bytes = [UInt8](repeating: 0, count: entry.end - entry.begin)
        try Self.read(descriptor, into: &bytes, at: header.dataStart + entry.begin, path: path)
        return [Float](unsafeUninitializedCapacity: entry.count) { out, initialized in
            bytes.withUnsafeBytes { entry.dtype.widen($0, into: out) }
            initialized = entry.count
        }
    }

    /// Fills `buffer` from byte `offset` of the file, or throws: a file that ends early shrank
    /// after its size was read.
    private static func read(_ descriptor: Int32, into buffer: inout [UInt8], at offset: Int, path: String) throws {
        var done = 0
        while done < buffer.count {
            let got = buffer.withUnsafeMutableBytes {
                pread(descriptor, $0.baseAddress! + done, $0.count - done, off_t(offset + done))
            }
            if got < 0 && errno == EINTR { continue }
            if got < 0 { throw FileIO.systemError(path, "cannot read") }
            if got == 0 { throw FileError(path: path, reason: "cannot read: the file shrank while being read") }
            done += got
        }
    }
}
