// The safetensors file format (Hugging Face): a float32 writer and a strict reader of F32, F16 and
// BF16 tensors (widened to float32).
//
// Layout: u64 little-endian N | N bytes of JSON header, space-padded to a multiple of 8 |
// raw little-endian tensor data. The header maps each tensor name to
// {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]} (offsets relative to the data
// section), plus an optional "__metadata__" object of string values. The reader checks every field
// (SafeTensorsHeader.swift) and refuses the file with one line naming the file and the tensor.
// `read` takes a whole file into memory; checkpoints stream theirs a tensor at a time
// (SafeTensorsFile.swift). Assumes a little-endian host (x86-64, arm64), as the format does.

import Compute
import FoundationEssentials
import Tokenizers

/// One named float32 tensor, row-major.
public struct NamedTensor: Equatable, Sendable {
    /// The tensor's name in the file (a Hugging Face name for model weights).
    public var name: String
    /// Its dimensions, outermost first.
    public var shape: [Int]
    /// Its elements, row-major: the product of `shape` of them.
    public var values: [Float]

    /// A tensor; `values` must hold the product of `shape` elements.
    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// A safetensors file that cannot be read, with the file, the tensor and the reason.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    /// The file at fault.
    public let file: String
    /// The tensor at fault, when the problem is in one tensor's entry.
    public let tensor: String?
    /// What was wrong.
    public let reason: String

    public var description: String {
        "\(file): invalid safetensors file: " + (tensor.map { "tensor '\($0)': " } ?? "") + reason
    }
}

/// Reading and writing safetensors files (written as float32; read from F32, F16 or BF16).
public enum SafeTensors {
    /// The file's bytes for `tensors`, in the given order. `metadata` goes under "__metadata__".
    public static func encode(_ tensors: [NamedTensor], metadata: [String: String] = ["format": "pt"]) throws -> Data {
        var header = "{"
        var offset = 0
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { jsonQuoted($0.key) + ":" + jsonQuoted($0.value) }
            entries.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var names = Set<String>()
        for tensor in tensors {
            let count = tensor.shape.reduce(1, *)
            guard count == tensor.values.count, tensor.shape.allSatisfy({ $0 >= 0 }) else {
                throw SafeTensorsError(file: "<encode>", tensor: tensor.name, reason:
                    "shape \(tensor.shape) does not hold \(tensor.values.count) values")
            }
            guard tensor.name != "__metadata__", names.insert(tensor.name).inserted else {
                throw SafeTensorsError(file: "<encode>", tensor: tensor.name, reason: "duplicate or reserved name")
            }
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append(jsonQuoted(tensor.name) + ":{\"dtype\":\"F32\",\"shape\":[\(shape)],"
                           + "\"data_offsets\":[\(offset),\(offset + 4 * count)]}")
            offset += 4 * count
        }
        header += entries.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        headerBytes += Array(repeating: UInt8(ascii: " "), count: (8 - headerBytes.count % 8) % 8)

        var data = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: headerBytes)
        for tensor in tensors {
            tensor.values.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        return data
    }

    /// Writes the tensors to `path` (fsynced).
    public static func write(_ tensors: [NamedTensor], metadata: [String: String] = ["format": "pt"],
                             to path: String) throws {
        try FileIO.writeDurably(try encode(tensors, metadata: metadata), to: path)
    }

    /// Reads and validates a file; tensors come back in data order.
    public static func read(_ path: String) throws -> [NamedTensor] {
        try decode(try FileIO.readData(path), file: path)
    }

    /// Validates and decodes a file's bytes (F32, F16 or BF16 tensors, widened to float32); `file`
    /// names it in errors.
    public static func decode(_ data: Data, file: String) throws -> [NamedTensor] {
        let prefix = data.count >= 8 ? data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) } : 0
        let length = try SafeTensorsHeader.headerLength(prefix: prefix, fileSize: data.count) {
            SafeTensorsError(file: file, tensor: nil, reason: $0)
        }
        let dataStart = 8 + length
        let header = try SafeTensorsHeader(json: [UInt8](data[data.startIndex + 8 ..< data.startIndex + dataStart]),
                                           dataLength: data.count - dataStart, file: file)
        return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            header.entries.map { entry in
                let values = [Float](unsafeUninitializedCapacity: entry.count) { buffer, initialized in
                    entry.dtype.widen(UnsafeRawBufferPointer(rebasing: raw[dataStart + entry.begin ..< dataStart + entry.end]),
                                      into: buffer)
                    initialized = entry.count
                }
                return NamedTensor(name: entry.name, shape: entry.shape, values: values)
            }
        }
    }
}
