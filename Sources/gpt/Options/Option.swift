// One command-line option, declared once: its name, its value type (how text becomes a value and
// what help calls it), its default and its help. The parser (CommandParser.swift) hands each
// option the text the command line gave it; the command then reads typed values: `steps.value`
// (the given value or the default) or `vocab.given` (nil when absent).

/// Why a piece of text is not a valid value, as a phrase that follows the option's name:
/// "expects an integer, got 'many'", "must be at least 1, got 0".
struct InvalidValue: Error, Equatable {
    let phrase: String
    init(_ phrase: String) { self.phrase = phrase }
}

/// An option's value type: how its text becomes a value, and how help shows one.
struct ValueType<Value>: Sendable {
    /// What help writes after the flag: `--steps N`.
    let placeholder: String
    let parse: @Sendable (String) throws(InvalidValue) -> Value
    /// A value as help and `:settings` print it.
    var describe: @Sendable (Value) -> String = { "\($0)" }
}

/// How many values an option takes.
enum Arity {
    /// None: present means on (`--interactive`).
    case onOff
    /// One (`--steps 20`, `--steps=20`), at most once.
    case single
    /// Every value up to the next option (`--input a.txt b.txt`); may repeat.
    case list
}

/// What the parser and the help generator need of any option, whatever its value type.
protocol AnyOption: AnyObject {
    var name: String { get }
    /// Other names the same option answers to (e.g. --eval-every for --eval-interval).
    var aliases: [String] { get }
    var placeholder: String { get }
    var help: String { get }
    var arity: Arity { get }
    var isRequired: Bool { get }
    /// The default as help prints it; nil: none worth printing.
    var defaultDescription: String? { get }
    var wasGiven: Bool { get }
    /// Converts and keeps `text` (nil for an on/off option).
    func accept(_ text: String?) throws(InvalidValue)
}

/// An option whose values are `Value`s.
final class Option<Value>: AnyOption {
    let name: String
    let aliases: [String]
    let help: String
    let arity: Arity
    let isRequired: Bool
    let type: ValueType<Value>
    let defaultValue: Value?
    /// Help's "(default: ...)" when it is not `defaultValue` (e.g. a setting whose default comes
    /// from a config file unless the flag is given).
    private let documentedDefault: String?
    private let combine: ((Value, Value) -> Value)?
    /// The command line's value, nil when it did not give one.
    private(set) var given: Value?

    private init(name: String, type: ValueType<Value>, arity: Arity, defaultValue: Value?, isRequired: Bool,
                 documentedDefault: String?, aliases: [String], help: String, combine: ((Value, Value) -> Value)?) {
        self.name = name
        self.type = type
        self.arity = arity
        self.defaultValue = defaultValue
        self.isRequired = isRequired
        self.documentedDefault = documentedDefault
        self.aliases = aliases
        self.help = help
        self.combine = combine
    }

    /// An option that takes one value, at most once.
    convenience init(_ name: String, _ type: ValueType<Value>, default defaultValue: Value? = nil,
                     required: Bool = false, documentedDefault: String? = nil, aliases: [String] = [],
                     help: String) {
        self.init(name: name, type: type, arity: .single, defaultValue: defaultValue, isRequired: required,
                  documentedDefault: documentedDefault, aliases: aliases, help: help, combine: nil)
    }

    /// An option that takes every value up to the next option and may repeat; the values add up.
    convenience init(list name: String, _ type: ValueType<Value>, required: Bool = false, help: String,
                     combine: @escaping (Value, Value) -> Value) {
        self.init(name: name, type: type, arity: .list, defaultValue: nil, isRequired: required,
                  documentedDefault: nil, aliases: [], help: help, combine: combine)
    }

    var placeholder: String { arity == .onOff ? "" : type.placeholder }
    var wasGiven: Bool { given != nil }
    var defaultDescription: String? {
        arity == .onOff ? nil : documentedDefault ?? defaultValue.map(type.describe)
    }

    /// The given value, else the default. The parser refuses a command line that leaves a required
    /// option out, and every other option read this way is declared with a default.
    var value: Value {
        guard let current = given ?? defaultValue else {
            preconditionFailure("--\(name) has neither a value nor a default")
        }
        return current
    }

    func accept(_ text: String?) throws(InvalidValue) {
        let parsed = try type.parse(text ?? "")
        if let given, let combine { self.given = combine(given, parsed) } else { given = parsed }
    }
}

extension Option where Value == Bool {
    /// An on/off option, off unless given.
    convenience init(onOff name: String, help: String) {
        self.init(name: name, type: ValueType(placeholder: "", parse: { _ in true }), arity: .onOff, defaultValue: false,
                  isRequired: false, documentedDefault: nil, aliases: [], help: help, combine: nil)
    }
}
