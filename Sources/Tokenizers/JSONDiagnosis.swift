// Why JSONDecoder refused a file it calls "not valid JSON" although the file is valid JSON: a
// number that is valid but cannot be the integer its key expects (4.5, 1e19). The decoder names no
// key then, so this reads the file as plain JSON and tries each suspect number (a fraction, or
// past Int's range) replaced by 0: the one whose replacement changes the outcome is the key.

import FoundationEssentials

enum JSONDiagnosis {
    /// "key 'contextLength' holds 1e+19, which is not an integer in Int's range", or nil when the
    /// data is not valid JSON (or no single number explains the failure).
    static func misfitNumber<T: Decodable>(in data: Data, decoding type: T.Type) -> String? {
        guard let tree = try? JSONDecoder().decode(JSONTree.self, from: data) else { return nil }
        for path in tree.suspectNumbers() {
            guard let repaired = try? JSONEncoder().encode(tree.replacing(path, with: .number(0))) else { continue }
            do {
                _ = try JSONDecoder().decode(T.self, from: repaired)
            } catch let DecodingError.dataCorrupted(context) where context.codingPath.isEmpty {
                continue  // still the same failure: not this number
            } catch {}
            let name = path.map { $0.index.map { "[\($0)]" } ?? $0.key ?? "" }.joined(separator: ".").replacing(".[", with: "[")
            return "key '\(name)' holds \(tree.value(at: path).map(\.text) ?? "a number"), which is not an integer "
                + "in Int's range (a whole number of at most 19 digits)"
        }
        return nil
    }
}

/// Any JSON value, for the diagnosis above.
private indirect enum JSONTree: Codable {
    case object([String: JSONTree]), array([JSONTree]), string(String), number(Double), bool(Bool), null

    struct Step { var key: String?, index: Int? }

    init(from decoder: any Decoder) throws {
        if let container = try? decoder.container(keyedBy: AnyKey.self) {
            var fields: [String: JSONTree] = [:]
            for key in container.allKeys { fields[key.stringValue] = try container.decode(JSONTree.self, forKey: key) }
            self = .object(fields)
        } else if var container = try? decoder.unkeyedContainer() {
            var items: [JSONTree] = []
            while !container.isAtEnd { items.append(try container.decode(JSONTree.self)) }
            self = .array(items)
        } else {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let value = try? container.decode(Bool.self) { self = .bool(value) }
            else if let value = try? container.decode(Double.self) { self = .number(value) }
            else { self = .string(try container.decode(String.self)) }
        }
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case let .object(fields):
            var container = encoder.container(keyedBy: AnyKey.self)
            for (key, value) in fields { try container.encode(value, forKey: AnyKey(stringValue: key)) }
        case let .array(items):
            var container = encoder.unkeyedContainer()
            for item in items { try container.encode(item) }
        case let .string(value): var container = encoder.singleValueContainer(); try container.encode(value)
        case let .number(value):
            var container = encoder.singleValueContainer()
            if value.rounded() == value, abs(value) < 9e15 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case let .bool(value): var container = encoder.singleValueContainer(); try container.encode(value)
        case .null: var container = encoder.singleValueContainer(); try container.encodeNil()
        }
    }

    /// Paths of the numbers no Int field accepts: fractions, and whole numbers past Int's range.
    func suspectNumbers(_ prefix: [Step] = []) -> [[Step]] {
        switch self {
        case let .object(fields):
            return fields.keys.sorted().flatMap { fields[$0]!.suspectNumbers(prefix + [Step(key: $0)]) }
        case let .array(items):
            return items.indices.flatMap { items[$0].suspectNumbers(prefix + [Step(index: $0)]) }
        case let .number(value):
            return value.rounded() != value || abs(value) >= 9.2e18 ? [prefix] : []
        default:
            return []
        }
    }

    func value(at path: [Step]) -> JSONTree? {
        guard let step = path.first else { return self }
        switch (self, step.key, step.index) {
        case let (.object(fields), key?, _): return fields[key]?.value(at: Array(path.dropFirst()))
        case let (.array(items), _, index?) where items.indices.contains(index): return items[index].value(at: Array(path.dropFirst()))
        default: return nil
        }
    }

    func replacing(_ path: [Step], with replacement: JSONTree) -> JSONTree {
        guard let step = path.first else { return replacement }
        switch (self, step.key, step.index) {
        case (.object(var fields), let key?, _):
            fields[key] = fields[key]?.replacing(Array(path.dropFirst()), with: replacement)
            return .object(fields)
        case (.array(var items), _, let index?) where items.indices.contains(index):
            items[index] = items[index].replacing(Array(path.dropFirst()), with: replacement)
            return .array(items)
        default:
            return self
        }
    }

    /// A number as the message shows it.
    var text: String {
        guard case let .number(value) = self else { return "a value" }
        return "\(value)"
    }
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
