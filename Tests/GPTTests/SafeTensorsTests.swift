// SafeTensors: writer/reader round trip and the strict reader's refusals, each one line naming the
// file and, where it applies, the tensor.

import Foundation
import Testing
@testable import GPT
import Tokenizers

@Suite struct SafeTensorsTests {
    static let tensors = [
        NamedTensor(name: "transformer.wte.weight", shape: [3, 2], values: [1, -2, 3.5, .pi, -0, 1e-30]),
        NamedTensor(name: "transformer.ln_f.bias", shape: [4], values: [0.25, .greatestFiniteMagnitude, -7, 8]),
        NamedTensor(name: "scalar \"quoted\" é", shape: [], values: [42]),
    ]

    /// A file with a hand-written header (space-padded) followed by `dataBytes` bytes of zeros.
    static func file(header: String, dataBytes: Int) -> Data {
        var headerBytes = Array(header.utf8)
        headerBytes += Array(repeating: 0x20, count: (8 - headerBytes.count % 8) % 8)
        var data = Data()
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: headerBytes)
        data.append(contentsOf: [UInt8](repeating: 0, count: dataBytes))
        return data
    }

    func refusal(_ data: Data) -> String? {
        do {
            _ = try SafeTensors.decode(data, file: "model.safetensors")
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func roundTripIsBitExactAndKeepsOrder() throws {
        let path = NSTemporaryDirectory() + "st-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafeTensors.write(Self.tensors, to: path)
        let loaded = try SafeTensors.read(path)
        #expect(loaded.map(\.name) == Self.tensors.map(\.name))
        #expect(loaded.map(\.shape) == Self.tensors.map(\.shape))
        for (a, b) in zip(loaded, Self.tensors) {
            #expect(a.values.map(\.bitPattern) == b.values.map(\.bitPattern))
        }
    }

    @Test func headerIsPaddedAndLittleEndian() throws {
        let data = try SafeTensors.encode(Self.tensors)
        let headerLength = Int(data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        #expect(headerLength % 8 == 0)
        #expect(data.count == 8 + headerLength + 4 * (6 + 4 + 1))
        let header = try #require(String(data: data[8 ..< 8 + headerLength], encoding: .utf8))
        #expect(header.contains(#""__metadata__":{"format":"pt"}"#))
        #expect(header.contains(#""transformer.wte.weight":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]}"#))
        // The first float is 1.0 = 0x3F800000, stored little-endian.
        #expect(Array(data[8 + headerLength ..< 12 + headerLength]) == [0x00, 0x00, 0x80, 0x3F])
    }

    @Test func truncatedFileIsRefused() throws {
        let data = try SafeTensors.encode(Self.tensors)
        let message = try #require(refusal(data.prefix(data.count - 4)))
        #expect(message.contains("model.safetensors") && message.contains("truncated"), "\(message)")
        #expect(refusal(data.prefix(5))?.contains("shorter than the 8-byte header length") == true)
        #expect(refusal(data.prefix(40)) != nil)
    }

    @Test func corruptedHeaderLengthIsRefused() throws {
        var data = try SafeTensors.encode(Self.tensors)
        data[6] = 0x01  // header length now ~2^48
        let message = try #require(refusal(data))
        #expect(message.contains("header length") && message.contains("exceeds"), "\(message)")
        var shorter = try SafeTensors.encode(Self.tensors)
        shorter[0] &-= 8  // header cut short: the JSON no longer parses
        #expect(refusal(shorter)?.contains("header: invalid JSON") == true)
    }

    @Test(arguments: [
        (#"{"a":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}"#, 16, "tensor 'a': dtype 'I64' is not supported"),
        (#"{"a":{"dtype":"BF16","shape":[3],"data_offsets":[0,8]}}"#, 8, "tensor 'a': shape [3] needs 6 bytes"),
        (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, 8, "tensor 'a': shape [3] needs 12 bytes"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
         12, "tensor 'b': data_offsets [4, 12] overlap"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#,
         16, "tensor 'a': appears more than once"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#, 16, "tensor 'a': data_offsets [8, 16] leave a gap"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 12, "cover 8 bytes but the data section has 12"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 4, "tensor 'a': data_offsets [0, 8] run past"),
        (#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, 8, "tensor 'a': 'shape' holds"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, 8, "tensor 'a': data_offsets [8, 0] must be"),
        (#"{"a":{"dtype":"F32","shape":[2]}}"#, 8, "tensor 'a': missing 'data_offsets'"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}}"#, 8, "tensor 'a': unknown field 'extra'"),
        (#"{"__metadata__":{"format":7}}"#, 0, "__metadata__ must be an object of strings"),
        (#"[1, 2]"#, 0, "header is not a JSON object"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#, 8, "header: invalid JSON"),
    ])
    func badHeadersAreRefusedWithOneLine(header: String, dataBytes: Int, expected: String) throws {
        let message = try #require(refusal(Self.file(header: header, dataBytes: dataBytes)))
        #expect(message.hasPrefix("model.safetensors: invalid safetensors file: "))
        #expect(message.contains(expected), "\(message)")
        #expect(!message.contains("\n"))
    }

    @Test func handWrittenValidHeaderIsAccepted() throws {
        let header = #"{ "__metadata__" : {"format":"pt"}, "b":{"shape":[1],"dtype":"F32","data_offsets":[4,8]}, "# +
            #""a\u00e9":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]} }"#
        let tensors = try SafeTensors.decode(Self.file(header: header, dataBytes: 8), file: "x")
        #expect(tensors.map(\.name) == ["aé", "b"])
        #expect(tensors.map(\.shape) == [[1, 1], [1]])
    }

    /// Written by the Python `safetensors` package (0.4+):
    /// save_file({"b": arange(6).reshape(2, 3), "a": [1.5]}, path, metadata={"format": "pt"}).
    static let officialFile = "kAAAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJmb3JtYXQiOiJwdCJ9LCJhIjp7ImR0eXBlIjoiRjMyIiwic2hhcGUiOlsxXSwiZ"
        + "GF0YV9vZmZzZXRzIjpbMCw0XX0sImIiOnsiZHR5cGUiOiJGMzIiLCJzaGFwZSI6WzIsM10sImRhdGFfb2Zmc2V0cyI6WzQsMjhdfX0gICAAAMA/"
        + "AAAAAAAAgD8AAABAAABAQAAAgEAAAKBA"

    @Test func readsAFileWrittenByTheReferenceImplementation() throws {
        let data = try #require(Data(base64Encoded: Self.officialFile))
        let tensors = try SafeTensors.decode(data, file: "official.safetensors")
        #expect(tensors == [NamedTensor(name: "a", shape: [1], values: [1.5]),
                            NamedTensor(name: "b", shape: [2, 3], values: [0, 1, 2, 3, 4, 5])])
    }

    /// Every binary16 and bfloat16 bit pattern widens to the float32 the hardware conversion
    /// gives (NaNs stay NaNs of the same sign).
    @Test func halfPrecisionWidensExactly() throws {
        let patterns = (0...UInt16.max).map { $0 }
        for dtype in [SafeTensorsDType.f16, .bf16] {
            var out = [Float](repeating: 0, count: patterns.count)
            patterns.withUnsafeBytes { raw in out.withUnsafeMutableBufferPointer { dtype.widen(raw, into: $0) } }
            for (bits, value) in zip(patterns, out) {
                let expected = dtype == .f16 ? Float(Float16(bitPattern: bits)) : Float(bitPattern: UInt32(bits) << 16)
                let same = expected.isNaN ? value.isNaN && value.sign == expected.sign : value.bitPattern == expected.bitPattern
                #expect(same, "\(dtype) 0x\(String(bits, radix: 16)): \(value) != \(expected)")
                if !same { break }
            }
        }
    }

    @Test func halfPrecisionFilesDecodeToFloat32() throws {
        // F16 [1, -2, 65504, 2^-24], BF16 [1, -0, 3.140625].
        let header = #"{"h":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[8,14]}}"#
        var data = Self.file(header: header, dataBytes: 0)
        data.append(contentsOf: [0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B, 0x01, 0x00, 0x80, 0x3F, 0x00, 0x80, 0x49, 0x40])
        let tensors = try SafeTensors.decode(data, file: "half.safetensors")
        #expect(tensors == [NamedTensor(name: "h", shape: [2, 2], values: [1, -2, 65504, 0x1p-24]),
                            NamedTensor(name: "b", shape: [3], values: [1, -0.0, 3.140625])])
        #expect(tensors[1].values[1].sign == .minus)
    }

    @Test func missingFileIsRefused() {
        let path = NSTemporaryDirectory() + "missing-\(UUID().uuidString).safetensors"
        #expect(throws: FileError(path: path, reason: "no such file")) { try SafeTensors.read(path) }
    }
}
