// A safetensors header, parsed and checked before any tensor data is touched: the element types we
// read (F32, F16, BF16: everything becomes float32 on load), each tensor's entry, and the rule
// that the entries tile the data section exactly. Shared by the in-memory decoder
// (SafeTensors.decode) and the file reader that streams one tensor at a time (SafeTensorsFile),
// so a file and each shard of a sharded checkpoint get the same checks.

import Tokenizers

/// A stored element type that reading converts to float32.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    /// IEEE binary32, copied as is.
    case f32 = "F32"
    /// IEEE binary16 (torch.float16), widened exactly.
    case f16 = "F16"
    /// bfloat16 (torch.bfloat16): the upper half of a binary32, widened exactly.
    case bf16 = "BF16"

    /// Bytes per element.
    public var byteCount: Int { self == .f32 ? 4 : 2 }

    /// Widens `raw` (little-endian elements of this type) into `out`, which holds
    /// `raw.count / byteCount` floats. Every conversion is exact: binary16 and bfloat16 values are
    /// all representable in binary32, NaN payloads and signed zeros included.
    func widen(_ raw: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) {
        switch self {
        case .f32:
            UnsafeMutableRawBufferPointer(out).copyMemory(from: raw)
        case .bf16:
            for i in out.indices {
                let half = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                out[i] = Float(bitPattern: UInt32(half) << 16)
            }
        case .f16:
            for i in out.indices {
                out[i] = Self.binary16(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        }
    }

    /// The binary32 value of binary16 bits: 1 sign, 5 exponent (bias 15), 10 fraction bits.
    static func binary16(_ bits: UInt16) -> Float {
        let sign = UInt32(bits >> 15) << 31, exponent = UInt32(bits >> 10) & 0x1F, fraction = UInt32(bits) & 0x3FF
        switch exponent {
        case 0:
            // Zero or subnormal: fraction · 2^-24, exact in binary32.
            let magnitude = Float(fraction) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:
            // Infinity or NaN (the payload moves up with the fraction).
            return Float(bitPattern: sign | 0x7F80_0000 | fraction << 13)
        default:
            return Float(bitPattern: sign | (exponent + 127 - 15) << 23 | fraction << 13)
        }
    }
}

/// One tensor's header entry, checked: dtype, shape, and offsets relative to the data section.
public struct SafeTensorsEntry: Equatable, Sendable {
    /// The tensor's name.
    public let name: String
    /// How its elements are stored.
    public let dtype: SafeTensorsDType
    /// Its dimensions, outermost first.
    public let shape: [Int]
    /// First byte in the data section.
    public let begin: Int
    /// One past its last byte.
    public let end: Int

    /// Elements: the product of `shape` (checked against the byte length when parsed).
    public var count: Int { (end - begin) / dtype.byteCount }
}

/// A parsed header: every tensor entry, sorted by offset, tiling the data section exactly.
public struct SafeTensorsHeader: Sendable {
    /// The format's own limit on the JSON header (the reference implementation refuses more).
    public static let maximumLength = 100_000_000

    /// The tensors, in data order.
    public let entries: [SafeTensorsEntry]
    /// Where the data section starts in the file: 8 + the header's length.
    public let dataStart: Int

    /// Checks the 8-byte length prefix against the file's size: the length of the JSON header.
    static func headerLength(prefix: UInt64, fileSize: Int, fail: (String) -> SafeTensorsError) throws -> Int {
        guard fileSize >= 8 else { throw fail("file is \(fileSize) bytes, shorter than the 8-byte header length") }
        guard prefix <= UInt64(fileSize - 8) else {
            throw fail("header length \(prefix) exceeds the \(fileSize - 8) bytes after it (truncated or corrupted)")
        }
        guard prefix <= UInt64(maximumLength) else {
            throw fail("header length \(prefix) exceeds the format's limit of \(maximumLength) bytes")
        }
        return Int(prefix)
    }

    /// Parses and checks the JSON header `bytes` of a file whose data section holds `dataLength`
    /// bytes; errors name `file` and, where it applies, the tensor.
    init(json bytes: [UInt8], dataLength: Int, file: String) throws {
        func fail(_ reason: String, tensor: String? = nil) -> SafeTensorsError {
            SafeTensorsError(file: file, tensor: tensor, reason: reason)
        }
        let header: JSONValue
        do {
            header = try JSONParser.parse(bytes)
        } catch {
            throw fail("header: \(error)")
        }
        guard case let .object(members) = header else { throw fail("header is not a JSON object") }

        var entries: [SafeTensorsEntry] = []
        var seen = Set<String>()
        for (name, value) in members {
            guard seen.insert(name).inserted else { throw fail("appears more than once in the header", tensor: name) }
            if name == "__metadata__" {
                guard case let .object(pairs) = value, pairs.allSatisfy({ if case .string = $0.value { true } else { false } })
                else { throw fail("__metadata__ must be an object of strings") }
                continue
            }
            entries.append(try Self.entry(name: name, value: value, fail: fail))
        }

        // Offsets, sorted, must tile the data section exactly: no gaps, no overlaps, nothing past the end.
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
        self.entries = entries
        dataStart = 8 + bytes.count
    }

    /// One entry: exactly the fields dtype, shape and data_offsets, and a byte length that the
    /// dtype and shape account for (the product overflow-checked).
    private static func entry(name: String, value: JSONValue,
                              fail: (String, String?) -> SafeTensorsError) throws -> SafeTensorsEntry {
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
        guard case let .string(dtypeName) = try field("dtype") else { throw fail("'dtype' is not a string", name) }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            let known = SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            throw fail("dtype '\(dtypeName)' is not supported (only \(known), read as float32)", name)
        }
        let shape = try integers("shape")
        let offsets = try integers("data_offsets")
        guard offsets.count == 2, offsets[0] <= offsets[1] else {
            throw fail("data_offsets \(offsets) must be [begin, end] with begin <= end", name)
        }
        let (begin, end) = (offsets[0], offsets[1])
        let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        let width = dtype.byteCount
        guard count < Int.max / width, count * width == end - begin else {
            throw fail("shape \(shape) needs \(count == Int.max ? "too many" : String(count * width)) bytes "
                       + "but data_offsets [\(begin), \(end)] hold \(end - begin)", name)
        }
        return SafeTensorsEntry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }
}
