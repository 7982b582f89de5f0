// Reading parsed JSON (StrictJSON.swift) by key and type, for files whose shape varies by
// component (a tokenizer.json's normalizer, pre-tokenizer, post-processor and decoder): Codable
// would need a type per variant, while these few accessors let each reader say what it expects.

extension JSONValue {
    /// The value of `key` in an object (the first, if repeated); nil for a missing key or a non-object.
    package func member(_ key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The value of `key`, treating JSON null like a missing key.
    package func presentMember(_ key: String) -> JSONValue? {
        guard let value = member(key), value != .null else { return nil }
        return value
    }

    package var stringValue: String? {
        if case let .string(text) = self { return text }
        return nil
    }

    package var boolValue: Bool? {
        if case let .bool(flag) = self { return flag }
        return nil
    }

    /// An integral number that fits an Int32-sized id or count.
    package var integerValue: Int? {
        guard case let .number(number) = self, number == number.rounded(), abs(number) < 1e15 else { return nil }
        return Int(number)
    }

    package var arrayValue: [JSONValue]? {
        if case let .array(items) = self { return items }
        return nil
    }

    package var objectMembers: [(key: String, value: JSONValue)]? {
        if case let .object(members) = self { return members }
        return nil
    }

    /// What kind of value this is, for messages ("a string", "an object", ...).
    package var kindDescription: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }
}
