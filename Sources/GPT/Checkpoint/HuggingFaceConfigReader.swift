// Reading a config.json that transformers wrote, key by key, so that no key goes unaccounted for:
// each one is taken by the family's mapping (HuggingFaceConfig.swift) as a ModelConfig field,
// passed as known not to change what the model computes, or refused in one line naming it. What
// is left untaken at the end is refused too: a key we do not know might change the model.
//
// Sizes are range-checked as they are read, before any layout or buffer is derived from them.

import FoundationEssentials
import Tokenizers

/// A config.json field that cannot be honoured, or a value out of range: the file, the field, why.
public struct HuggingFaceConfigError: Error, CustomStringConvertible, Equatable {
    /// The config.json at fault.
    public let path: String
    /// The field, as config.json spells it (a nested one as "rope_parameters.rope_type").
    public let field: String
    /// What is wrong with it, or what is not supported.
    public let reason: String

    public var description: String { "\(path): field '\(field)': \(reason)" }
}

/// The fields of one config.json, taken one at a time.
struct HuggingFaceConfigReader {
    let path: String
    private let fields: [String: JSONValue]
    private var untaken: Set<String>

    /// The largest width (hidden, intermediate, head sizes) accepted from a file: far above any
    /// published model, low enough that products of sizes cannot overflow.
    static let maximumWidth = 1 << 20
    /// The most layers accepted.
    static let maximumLayers = 1 << 14
    /// The longest context accepted.
    static let maximumContext = 1 << 24

    init(_ root: JSONValue, path: String) throws {
        self.path = path
        guard let members = root.objectMembers else {
            throw HuggingFaceConfigError(path: path, field: "", reason: "config.json is not a JSON object")
        }
        var fields: [String: JSONValue] = [:]
        for (key, value) in members {
            guard fields.updateValue(value, forKey: key) == nil else {
                throw HuggingFaceConfigError(path: path, field: key, reason: "appears more than once")
            }
        }
        self.fields = fields
        untaken = Set(fields.keys)
    }

    func fail(_ field: String, _ reason: String) -> HuggingFaceConfigError {
        HuggingFaceConfigError(path: path, field: field, reason: reason)
    }

    /// The value of `key`, marked as taken; nil when absent or null (transformers' default then).
    mutating func take(_ key: String) -> JSONValue? {
        untaken.remove(key)
        guard let value = fields[key], value != .null else { return nil }
        return value
    }

    /// An integer field in `range`, or `fallback` when absent.
    mutating func integer(_ key: String, default fallback: Int? = nil, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = take(key) else { return fallback }
        guard let number = value.integerValue else { throw fail(key, "must be an integer, got \(Self.brief(value))") }
        guard range.contains(number) else {
            throw fail(key, "\(number) is out of range (\(range.lowerBound)...\(range.upperBound))")
        }
        return number
    }

    /// A positive number that float32 holds, or `fallback` when absent.
    mutating func positiveNumber(_ key: String, default fallback: Double? = nil) throws -> Double? {
        guard let value = take(key) else { return fallback }
        return try Self.positiveNumber(value, key, self)
    }

    /// `value` as a positive number that float32 holds, or an error naming `key`.
    static func positiveNumber(_ value: JSONValue, _ key: String, _ reader: HuggingFaceConfigReader) throws -> Double {
        guard case let .number(number) = value, number > 0, Float(number).isFinite, Float(number) > 0 else {
            throw reader.fail(key, "must be a positive number, got \(brief(value))")
        }
        return number
    }

    mutating func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let value = take(key) else { return fallback }
        guard let flag = value.boolValue else { throw fail(key, "must be true or false, got \(Self.brief(value))") }
        return flag
    }

    mutating func string(_ key: String, default fallback: String?) throws -> String? {
        guard let value = take(key) else { return fallback }
        guard let text = value.stringValue else { throw fail(key, "must be a string, got \(Self.brief(value))") }
        return text
    }

    /// Takes fields that do not change what the model computes (initialisation, caching, token ids
    /// the tokenizer files also give, dropout rates of the original training, ...).
    mutating func pass(_ keys: [String]) {
        for key in keys { untaken.remove(key) }
    }

    /// Refuses `key` unless it is absent, null, or `allowed`: a setting whose other values change
    /// the model in a way it does not implement (`why` says how).
    mutating func refuse(_ key: String, unless allowed: JSONValue, why: String) throws {
        guard let value = take(key), value != allowed else { return }
        throw fail(key, "\(Self.brief(value)) is not supported: \(why)")
    }

    /// Refuses the first field nothing took.
    func refuseUntaken(family: String) throws {
        guard let key = untaken.sorted().first else { return }
        throw fail(key, "is not a \(family) field this importer knows; refusing rather than ignoring it "
                   + "(it might change the model)")
    }

    /// A value as messages show it: compact JSON, cut at 80 characters.
    static func brief(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let text = (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? value.kindDescription
        return text.count > 80 ? String(text.prefix(77)) + "..." : text
    }
}
