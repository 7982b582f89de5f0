// The safetensors file format (Hugging Face): a writer and a strict reader, float32 only for now.
//
// Layout: u64 little-endian N | N bytes of JSON header, space-padded to a multiple of 8 |
// raw little-endian tensor data. The header maps each tensor name to
// {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]} (offsets relative to the data
// section), plus an optional "__metadata__" object of string values. The reader checks every field
// and refuses the file with one line naming the file and the tensor; data is bulk-copied.
// Assumes a little-endian host (x86-64, arm64), as the format does.

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

/// Reading and writing safetensors files (float32 tensors).
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

    /// Validates and decodes a file's bytes; `file` names it in errors.
    public static func decode(_ data: Data, file: String) throws -> [NamedTensor] {
        func fail(_ reason: String, tensor: String? = nil) -> SafeTensorsError {
            SafeTensorsError(file: file, tensor: tensor, reason: reason)
        }
        guard data.count >= 8 else { throw fail("file is \(data.count) bytes, shorter than the 8-byte header length") }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw fail("header length \(headerLength) exceeds the \(data.count - 8) bytes after it (truncated or corrupted)")
        }
        let dataStart = 8 + Int(headerLength)
        let headerBytes = [UInt8](data[data.startIndex + 8 ..< data.startIndex + dataStart])
        let header: JSONValue
        do {
            header = try JSONParser.parse(headerBytes)
        } catch {
            throw fail("header: \(error)")
        }
        guard case let .object(members) = header else { throw fail("header is not a JSON object") }

        var entries: [HeaderEntry] = []
        var seen = Set<String>()
        for (name, value) in members {
            guard seen.insert(name).inserted else { throw fail("appears more than once in the header", tensor: name) }
            if name == "__metadata__" {
                guard case let .object(pairs) = value, pairs.allSatisfy({ if case .string = $0.value { true } else { false } })
                else { throw fail("__metadata__ must be an object of strings") }
                continue
            }
            entries.append(try HeaderEntry(name: name, value: value, fail: fail))
        }

        // Offsets, sorted, must tile the data section exactly: no gaps, no overlaps, nothing past the end.
        let dataLength = data.count - dataStart
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var expectedBegin = 0
        for entry in entries {
            if entry.begin < expectedBegin {
                throw fail("data_offsets [\(entry.begin), \(entry.end)] overlap the previous tensor (which ends at \(expectedBegin))",
                           tensor: entry.name)
            }
            if entry.begin > expectedBegin {
                throw fail("data_offsets [\(entry.begin), \(entry.end)] leave a gap after byte \(expectedBegin)", tensor: entry.name)
            }
            if entry.end > dataLength {
                throw fail("data_offsets [\(entry.begin), \(entry.end)] run past the \(dataLength) data bytes (truncated file?)",
                           tensor: entry.name)
            }
            expectedBegin = entry.end
        }
        guard expectedBegin == dataLength else {
            throw fail("tensors cover \(expectedBegin) bytes but the data section has \(dataLength)")
        }

        return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            entries.map { entry in
                let count = (entry.end - entry.begin) / 4
                let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    let source = UnsafeRawBufferPointer(rebasing: raw[dataStart + entry.begin ..< dataStart + entry.end])
                    UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
                    initialized = count
                }
                return NamedTensor(name: entry.name, shape: entry.shape, values: values)
            }
        }
    }
}

/// One tensor's header entry, checked: dtype, shape, offsets, and shape × 4 == byte length.
private struct HeaderEntry {
    let name: String
    let shape: [Int]
    let begin: Int
    let end: Int

    init(name: String, value: JSONValue, fail: (String, String?) -> SafeTensorsError) throws {
        self.name = name
        guard case let .object(fields) = value else { throw fail("entry is not an object", name) }
        func field(_ key: String) throws -> JSONValue {
            let matches = fields.filter { $0.key == key }
            guard matches.count == 1 else {
                throw fail(matches.isEmpty ? "missing '\(key)'" : "'\(key)' appears more than once", name)
            }
            return matches[0].value
        }
        func integers(_ key: String) throws -> [Int] {
            guard case let .array(items) = try field(key) else { throw fail("'\(key)' is not an array", name) }
            return try items.map { item in
                guard case let .number(number) = item, number >= 0, number == number.rounded(),
                      number < 9e15 else { throw fail("'\(key)' holds \(item), not a non-negative integer", name) }
                return Int(number)
            }
        }
        if let unknown = fields.first(where: { !["dtype", "shape", "data_offsets"].contains($0.key) }) {
            throw fail("unknown field '\(unknown.key)'", name)
        }
        guard case let .string(dtype) = try field("dtype") else { throw fail("'dtype' is not a string", name) }
        guard dtype == "F32" else { throw fail("dtype '\(dtype)' is not supported (only F32)", name) }
        shape = try integers("shape")
        let offsets = try integers("data_offsets")
        guard offsets.count == 2, offsets[0] <= offsets[1] else {
            throw fail("data_offsets \(offsets) must be [begin, end] with begin <= end", name)
        }
        begin = offsets[0]
        end = offsets[1]
        let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        guard count < Int.max / 4, count * 4 == end - begin else {
            throw fail("shape \(shape) needs \(count == Int.max ? "too many" : String(count * 4)) bytes "
                       + "but data_offsets [\(begin), \(end)] hold \(end - begin)", name)
        }
    }
}
