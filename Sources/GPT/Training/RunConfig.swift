// Run configuration files: one JSON object with a "model" and a "training" section holding every
// hyperparameter of a run. Sections may be partial: "model" starts from its "preset" (default
// char-baby) and "training" from `TrainingSettings()`, and the keys given override them. An unknown
// key or a value of the wrong type is a one-line error naming the key path. configs/ has one file
// per preset.

import FoundationEssentials
import Tokenizers

/// A run config that does not parse or holds a value out of range, naming the key path.
public struct RunConfigError: Error, CustomStringConvertible, Equatable {
    public let description: String
    /// An error with this message.
    public init(_ description: String) { self.description = description }
}

/// A whole run: architecture plus training settings.
public struct RunConfig: Equatable, Sendable {
    /// The architecture.
    public var model: ModelConfig
    /// Everything else.
    public var training: TrainingSettings
    /// Whether the model's vocabulary is the training data's (a preset's placeholder, or a config
    /// that leaves vocabSize out) rather than a size the data's tokenizer must match.
    public var vocabularyFromData: Bool

    /// A run of `model` with `training` (default: every setting's default); its vocabulary comes
    /// from the data unless `vocabularyFromData` is false.
    public init(model: ModelConfig, training: TrainingSettings = TrainingSettings(), vocabularyFromData: Bool = true) {
        self.model = model
        self.training = training
        self.vocabularyFromData = vocabularyFromData
    }

    /// Reads a run config file; errors name the file and the key path.
    public static func load(path: String) throws -> RunConfig {
        let data = try FileIO.readData(path)
        do {
            return try parse(data)
        } catch let error as RunConfigError {
            throw RunConfigError("\(path): \(error.description)")
        }
    }

    /// Parses run config JSON (see the file comment for the rules).
    public static func parse(_ data: Data) throws -> RunConfig {
        let root: JSONValue
        do {
            root = try JSONParser.parse(Array(data))
        } catch {
            throw RunConfigError("\(error)")
        }
        let object = try fields(root, path: "", what: "the file")
        try rejectUnknown(object, known: ["model", "training"], path: "")

        var model = try ModelConfig.preset("char-baby")
        var vocabularyFromData = true
        if let section = object["model"] {
            let fields = try Self.fields(section, path: "model.", what: "model")
            if let preset = fields["preset"] {
                guard case let .string(name) = preset else { throw RunConfigError("model.preset must be a string") }
                model = try ModelConfig.preset(name)
            }
            let base = try encodeToObject(model)
            try rejectUnknown(fields, known: ModelConfig.jsonKeys.union(["preset"]), path: "model.")
            model = try decode(ModelConfig.self, base: base, overrides: fields.filter { $0.key != "preset" },
                               section: "model.")
            vocabularyFromData = fields["vocabSize"] == nil
        }
        var training = TrainingSettings()
        if let section = object["training"] {
            let fields = try Self.fields(section, path: "training.", what: "training")
            try rejectUnknown(fields, known: Set(Self.trainingKeys), path: "training.")
            training = try decode(TrainingSettings.self, base: try encodeToObject(training), overrides: fields,
                                  section: "training.")
        }
        do {
            try model.validate()
        } catch {
            throw RunConfigError("\(error)")
        }
        try training.validate()
        return RunConfig(model: model, training: training, vocabularyFromData: vocabularyFromData)
    }

    /// The file form of this config: both sections complete (what a checkpoint saves).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var training = try Self.encodeToObject(self.training)
        for key in Self.trainingKeys where training[key] == nil { training[key] = .null }
        let sections: [(key: String, value: JSONValue)] = [
            ("model", .object(try Self.encodeToObject(model).sorted { $0.key < $1.key }.map { ($0.key, $0.value) })),
            ("training", .object(training.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })),
        ]
        return try encoder.encode(JSONValue.object(sections))
    }

    /// Every key the training section accepts (optional ones included).
    static let trainingKeys = ["batchSize", "gradientAccumulation", "learningRate", "minLearningRate",
                               "warmupSteps", "maxSteps", "weightDecay", "beta1", "beta2", "epsilon",
                               "gradientClip", "dropout", "evalInterval", "evalBatches", "checkpointInterval",
                               "sampleInterval", "samplePrompt", "sampleTokens", "seed", "backend", "device"]

    static func rejectUnknown(_ fields: [String: JSONValue], known: Set<String>, path: String) throws {
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw RunConfigError("unknown key '\(path)\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
        }
    }

    /// An object's fields by key; a non-object or a duplicated key is an error.
    static func fields(_ value: JSONValue, path: String, what: String) throws -> [String: JSONValue] {
        guard case let .object(pairs) = value else { throw RunConfigError("\(what) must be a JSON object") }
        var fields: [String: JSONValue] = [:]
        for (key, field) in pairs {
            guard fields.updateValue(field, forKey: key) == nil else {
                throw RunConfigError("duplicate key '\(path)\(key)'")
            }
        }
        return fields
    }

    static func encodeToObject<T: Encodable>(_ value: T) throws -> [String: JSONValue] {
        try fields(try JSONParser.parse(Array(try JSONEncoder().encode(value))), path: "", what: "value")
    }

    /// Decodes `base` with `overrides` merged in; `section` ("model.", or "" for a bare file)
    /// prefixes the keys errors name. Errors name the key: when the decoder cannot say
    /// which (a fraction in an integer field reports no path), the overrides are tried one by one.
    static func decode<T: Decodable>(_ type: T.Type, base: [String: JSONValue],
                                             overrides: [String: JSONValue], section: String) throws -> T {
        func attempt(_ fields: [String: JSONValue]) throws -> T {
            let object = JSONValue.object(fields.map { ($0.key, $0.value) })
            return try JSONDecoder().decode(T.self, from: try JSONEncoder().encode(object))
        }
        do {
            return try attempt(base.merging(overrides) { $1 })
        } catch let DecodingError.typeMismatch(expected, context) where !context.codingPath.isEmpty {
            throw RunConfigError("\(section)\(keyPath(context)) must be \(describe(expected))")
        } catch let DecodingError.valueNotFound(expected, context) where !context.codingPath.isEmpty {
            throw RunConfigError("\(section)\(keyPath(context)) must be \(describe(expected)), not null")
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw RunConfigError("\(section)\(keyPath(context)): \(context.debugDescription)")
        } catch {
            for key in overrides.keys.sorted() {
                guard (try? attempt(base.merging([key: overrides[key]!]) { $1 })) == nil else { continue }
                let expected = base[key].map { value -> String in
                    // An integer field given a fraction, or a whole number too large for it.
                    if case let .number(number) = value, number.rounded() == number,
                       case let .number(given) = overrides[key]!, given.rounded() != given || abs(given) >= 9e15 {
                        return given.rounded() != given ? "an integer" : "an integer of at most 15 digits"
                    }
                    return "a value of the right type"
                } ?? "a valid value"
                throw RunConfigError("\(section)\(key) must be \(expected)")
            }
            throw RunConfigError((section.isEmpty ? "" : section.dropLast() + ": ") + "\(error)")
        }
    }

    private static func keyPath(_ context: DecodingError.Context) -> String {
        context.codingPath.map(\.stringValue).joined(separator: ".")
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is UInt64.Type: return "an integer"
        case is Float.Type, is Double.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default: return "a \(type)"
        }
    }
}
