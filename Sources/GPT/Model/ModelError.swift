// Errors from the model layer: one line each, naming what was wrong and what would be right.

/// A model that cannot be built or run as asked.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// No preset has this name.
    case unknownPreset(String, known: [String])
    /// A config whose sizes do not fit together (e.g. C not a multiple of NH).
    case invalidConfig(String)
    /// A forward/backward call that does not fit the allocated or configured sizes.
    case shape(String)
    /// backward() without a forward with targets first, and similar ordering mistakes.
    case state(String)
    /// A token id outside the vocabulary.
    case tokenOutOfRange(token: Int32, vocabSize: Int)

    public var description: String {
        switch self {
        case let .unknownPreset(name, known):
            return "unknown preset '\(name)'; known presets: \(known.joined(separator: ", "))"
        case let .invalidConfig(reason): return "invalid model config: \(reason)"
        case let .shape(reason): return "shape: \(reason)"
        case let .state(reason): return reason
        case let .tokenOutOfRange(token, vocabSize):
            return "token id \(token) is outside the vocabulary 0..<\(vocabSize)"
        }
    }
}
