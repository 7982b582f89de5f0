// Hand-written argument parsing shared by every subcommand: flag tables, `--help` text, typed values,
// and usage errors (exit 64, one line: `gpt <cmd>: <what was wrong> (see gpt <cmd> --help)`).

/// A mistake in how the command was invoked. Exit status 64 (EX_USAGE).
struct UsageError: Error {
    let command: String
    let message: String

    var line: String {
        let name = command.isEmpty ? "gpt" : "gpt \(command)"
        return "\(name): \(message) (see \(name) --help)"
    }
}

/// One `--flag VALUE` a subcommand accepts.
struct Flag {
    let name: String
    /// Placeholder in help, e.g. "N", "FILE".
    let placeholder: String
    /// Printed as the default; nil means the flag is required (or optional without a default when
    /// `required` is false).
    let defaultValue: String?
    let help: String
    var required = false
    /// A switch takes no value: present means on (e.g. --interactive).
    var isSwitch = false
    /// A list flag takes every value up to the next flag (`--input a.txt b.txt`) and may repeat.
    var isList = false

    /// An on/off flag, off unless given.
    static func onOff(_ name: String, help: String) -> Flag {
        Flag(name: name, placeholder: "", defaultValue: nil, help: help, isSwitch: true)
    }
}

/// The one positional argument a command may take (e.g. `gpt plot LOG.csv`), stored under `name`.
struct Positional {
    let name: String
    let placeholder: String
    let help: String
}

/// A subcommand's name, one-line summary, flags and body.
struct Command {
    let name: String
    let summary: String
    let flags: [Flag]
    /// A required positional argument, when the command takes one.
    var positional: Positional? = nil
    let run: (ParsedArguments) throws -> Void

    var helpText: String {
        let width = flags.map { $0.name.count + $0.placeholder.count + 4 }.max() ?? 0
        let usage = positional.map { "Usage: gpt \(name) \($0.placeholder) [options]" } ?? "Usage: gpt \(name) [options]"
        var lines = ["gpt \(name): \(summary)", "", usage, ""]
        if let positional { lines += ["  \(positional.placeholder): \(positional.help)", ""] }
        lines.append("Options:")
        for flag in flags {
            let left = "  --\(flag.name) \(flag.placeholder)"
            let padding = String(repeating: " ", count: max(1, width - left.count + 4))
            let note = flag.required ? " (required)" : flag.defaultValue.map { " (default: \($0))" } ?? ""
            lines.append(left + padding + flag.help + note)
        }
        lines.append("  -h, --help" + String(repeating: " ", count: max(1, width - 8)) + "show this help")
        return lines.joined(separator: "\n")
    }

    /// Parses `arguments` (everything after the subcommand). Returns nil when help was asked for.
    func parse(_ arguments: [String]) throws -> ParsedArguments? {
        if arguments.contains("--help") || arguments.contains("-h") { return nil }
        var values: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--") else {
                if let positional, values[positional.name] == nil {
                    values[positional.name] = argument
                    continue
                }
                throw UsageError(command: name, message: "unexpected argument '\(argument)'")
            }
            var key = String(argument.dropFirst(2))
            var value: String?
            if let equals = key.firstIndex(of: "=") {
                value = String(key[key.index(after: equals)...])
                key = String(key[..<equals])
            }
            guard let flag = flags.first(where: { $0.name == key }) else {
                throw UsageError(command: name, message: "unknown flag '--\(key)'")
            }
            if flag.isSwitch {
                guard value == nil else { throw UsageError(command: name, message: "--\(key) takes no value") }
                value = "true"
            } else if flag.isList {
                var items = value.map { [$0] } ?? []
                while index < arguments.count, !arguments[index].hasPrefix("--"), arguments[index] != "-h" {
                    items.append(arguments[index])
                    index += 1
                }
                guard !items.isEmpty else { throw UsageError(command: name, message: "missing value for --\(key)") }
                let previous = values[key].map { [$0] } ?? []
                values[key] = (previous + items).joined(separator: String(ParsedArguments.listSeparator))
                continue
            } else if value == nil {
                let next = index < arguments.count ? arguments[index] : nil
                if let next, !isFlag(next) {
                    value = next
                    index += 1
                }
            }
            guard let value else { throw UsageError(command: name, message: "missing value for --\(key)") }
            guard values.updateValue(value, forKey: key) == nil else {
                throw UsageError(command: name, message: "--\(key) is given more than once")
            }
        }
        if let positional, values[positional.name] == nil {
            throw UsageError(command: name, message: "missing \(positional.placeholder)")
        }
        for flag in flags where flag.required && values[flag.name] == nil {
            throw UsageError(command: name, message: "missing required flag --\(flag.name)")
        }
        for flag in flags where values[flag.name] == nil {
            values[flag.name] = flag.defaultValue
        }
        return ParsedArguments(command: name, values: values)
    }

    /// Whether `argument` is one of this command's flags (so it cannot be the previous flag's value).
    private func isFlag(_ argument: String) -> Bool {
        guard argument.hasPrefix("--") else { return argument == "-h" }
        let key = argument.dropFirst(2).split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
        return key == "help" || flags.contains { $0.name == key }
    }
}

/// Flag values after parsing, with typed accessors that turn bad values into usage errors.
struct ParsedArguments {
    let command: String
    let values: [String: String]

    private func fail(_ message: String) -> UsageError { UsageError(command: command, message: message) }

    func string(_ name: String) -> String? { values[name] }

    /// Whether an on/off flag was given.
    func isOn(_ name: String) -> Bool { values[name] == "true" }

    /// Joins a list flag's values internally; NUL cannot occur in a command-line argument.
    static let listSeparator: Character = "\u{0}"

    /// Every value of a list flag, in order.
    func strings(_ name: String) -> [String] {
        values[name].map { $0.split(separator: Self.listSeparator, omittingEmptySubsequences: false).map(String.init) } ?? []
    }

    func int(_ name: String, atLeast minimum: Int) throws -> Int? {
        guard let text = values[name] else { return nil }
        guard let value = Int(text) else { throw fail("--\(name) expects an integer, got '\(text)'") }
        guard value >= minimum else { throw fail("--\(name) must be at least \(minimum), got \(value)") }
        return value
    }

    func float(_ name: String, atLeast minimum: Float, below limit: Float? = nil) throws -> Float? {
        guard let text = values[name] else { return nil }
        guard let value = Float(text), value.isFinite else { throw fail("--\(name) expects a number, got '\(text)'") }
        guard value >= minimum else { throw fail("--\(name) must be at least \(minimum), got \(text)") }
        if let limit, value >= limit { throw fail("--\(name) must be below \(limit), got \(text)") }
        return value
    }

    func seed(_ name: String) throws -> UInt64? {
        guard let text = values[name] else { return nil }
        guard let value = UInt64(text) else { throw fail("--\(name) expects a non-negative integer, got '\(text)'") }
        return value
    }
}
