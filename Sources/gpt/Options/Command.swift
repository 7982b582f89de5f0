// A subcommand: its name, summary and option declarations (an OptionGroup made fresh for each
// invocation), the help generated from them, and its body, which reads the parsed, typed values.
// Usage errors are one line, `gpt <cmd>: <what was wrong> (see gpt <cmd> --help)`, and exit 64.

/// A mistake in how the command was invoked. Exit status 64 (EX_USAGE).
struct UsageError: Error {
    let command: String
    let message: String

    var line: String {
        let name = command.isEmpty ? "gpt" : "gpt \(command)"
        return "\(name): \(message) (see \(name) --help)"
    }
}

/// The options of one command. Options hold what the parser gave them, so each invocation makes
/// a fresh group.
protocol OptionGroup: SendableMetatype {
    init()
    /// Every option, in the order help lists them.
    var all: [any AnyOption] { get }
    /// The one argument that is not an option, when the command takes one (`gpt plot LOG.csv`).
    var positional: PositionalArgument? { get }
}

extension OptionGroup {
    var positional: PositionalArgument? { nil }
}

/// A required argument that is not an option, e.g. the log `gpt plot` draws.
final class PositionalArgument {
    let placeholder: String
    let help: String
    private(set) var given: String?

    init(_ placeholder: String, help: String) {
        self.placeholder = placeholder
        self.help = help
    }

    /// The argument; the parser refuses a command line without it.
    var value: String {
        guard let given else { preconditionFailure("\(placeholder) was not parsed") }
        return given
    }

    func accept(_ text: String) { given = text }
}

struct Command: Sendable {
    let name: String
    let summary: String
    private let makeHelp: @Sendable () -> String
    private let execute: @Sendable ([String]) throws -> Bool

    init<Options: OptionGroup>(_ name: String, summary: String, options: Options.Type,
                               run: @escaping @Sendable (Options) throws -> Void) {
        self.name = name
        self.summary = summary
        makeHelp = { renderHelp(command: name, summary: summary, options: Options()) }
        execute = { arguments in
            let options = Options()
            let parser = CommandParser(command: name, options: options.all, positional: options.positional)
            guard try parser.parse(arguments) else { return false }
            try run(options)
            return true
        }
    }

    var helpText: String { makeHelp() }

    /// Parses `arguments` (everything after the subcommand) and runs the command. Returns false,
    /// having run nothing, when they ask for help.
    func run(_ arguments: [String]) throws -> Bool { try execute(arguments) }
}

/// `gpt <command> --help`: usage, the positional argument, then one line per option with its
/// placeholder, help and default (or "(required)").
private func renderHelp(command: String, summary: String, options group: some OptionGroup) -> String {
    let options = group.all
    let names = options.flatMap { option in ([option.name] + option.aliases).map { ($0, option.placeholder) } }
    let width = names.map { $0.0.count + $0.1.count + 4 }.max() ?? 0
    func line(_ left: String, _ text: String) -> String {
        left + String(repeating: " ", count: max(1, width - left.count + 4)) + text
    }
    let positional = group.positional
    var lines = ["gpt \(command): \(summary)", "",
                 "Usage: gpt \(command) " + (positional.map { "\($0.placeholder) " } ?? "") + "[options]", ""]
    if let positional { lines += ["  \(positional.placeholder): \(positional.help)", ""] }
    lines.append("Options:")
    for option in options {
        let note = option.isRequired ? " (required)" : option.defaultDescription.map { " (default: \($0))" } ?? ""
        lines.append(line("  --\(option.name) \(option.placeholder)", option.help + note))
        for alias in option.aliases {
            lines.append(line("  --\(alias) \(option.placeholder)", "the same as --\(option.name)"))
        }
    }
    lines.append(line("  -h, --help", "show this help"))
    return lines.joined(separator: "\n")
}
