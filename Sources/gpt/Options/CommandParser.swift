// Reads a command line into a command's options, in two passes so that a mistake in how the line is
// written (an unknown option, a missing value, a repeat) is reported before a value that does not
// convert: first the words are matched to options (`--name VALUE`, `--name=VALUE`, on/off
// options, list options taking every value up to the next option, one positional argument), then
// the required ones are checked and every value is converted, in the order the options are
// declared. Every mistake is one UsageError.

struct CommandParser {
    let command: String
    let options: [any AnyOption]
    let positional: PositionalArgument?

    /// What the command line said for one option: the name it used and its texts (nil for on/off).
    private struct Occurrence {
        let option: any AnyOption
        var spelling: String
        var texts: [String?]
    }

    private struct Words {
        var occurrences: [Occurrence] = []
        var positional: String?
    }

    /// Fills in the options. Returns false, touching nothing, when the line asks for help.
    func parse(_ arguments: [String]) throws -> Bool {
        if arguments.contains("--help") || arguments.contains("-h") { return false }
        var words = Words()
        var index = 0
        while index < arguments.count { index = try match(arguments, at: index, into: &words) }
        if let positional {
            guard let text = words.positional else { throw usage("missing \(positional.placeholder)") }
            positional.accept(text)
        }
        for option in options where option.isRequired && !words.occurrences.contains(where: { $0.option === option }) {
            throw usage("missing required flag --\(option.name)")
        }
        for option in options {
            for occurrence in words.occurrences where occurrence.option === option {
                try convert(occurrence)
            }
        }
        return true
    }

    /// Matches the word at `start` (and the values it takes) to an option; returns the next index.
    private func match(_ arguments: [String], at start: Int, into words: inout Words) throws -> Int {
        var index = start + 1
        let argument = arguments[start]
        guard argument.hasPrefix("--") else {
            guard positional != nil, words.positional == nil else { throw usage("unexpected argument '\(argument)'") }
            words.positional = argument
            return index
        }
        var key = String(argument.dropFirst(2)), inline: String?
        if let equals = key.firstIndex(of: "=") {
            inline = String(key[key.index(after: equals)...])
            key = String(key[..<equals])
        }
        guard let option = lookup(key) else { throw usage("unknown flag '--\(key)'") }
        switch option.arity {
        case .onOff:
            guard inline == nil else { throw usage("--\(key) takes no value") }
            try record(option, as: key, nil, into: &words)
        case .single:
            var value = inline
            if value == nil, index < arguments.count, !isOption(arguments[index]) {
                value = arguments[index]
                index += 1
            }
            guard let value else { throw usage("missing value for --\(key)") }
            try record(option, as: key, value, into: &words)
        case .list:
            var items = inline.map { [$0] } ?? []
            while index < arguments.count, !arguments[index].hasPrefix("--"), arguments[index] != "-h" {
                items.append(arguments[index])
                index += 1
            }
            guard !items.isEmpty else { throw usage("missing value for --\(key)") }
            for item in items { try record(option, as: key, item, into: &words) }
        }
        return index
    }

    /// Keeps one occurrence; a second one of an option that takes one value is a mistake.
    private func record(_ option: any AnyOption, as spelling: String, _ text: String?, into words: inout Words) throws {
        guard let index = words.occurrences.firstIndex(where: { $0.option === option }) else {
            words.occurrences.append(Occurrence(option: option, spelling: spelling, texts: [text]))
            return
        }
        guard option.arity == .list else {
            let previous = words.occurrences[index].spelling
            throw usage(previous == spelling ? "--\(spelling) is given more than once"
                        : "give --\(previous) or --\(spelling), not both")
        }
        words.occurrences[index].texts.append(text)
    }

    private func convert(_ occurrence: Occurrence) throws {
        for text in occurrence.texts {
            do {
                try occurrence.option.accept(text)
            } catch {
                throw usage("--\(occurrence.spelling) \(error.phrase)")
            }
        }
    }

    private func lookup(_ key: String) -> (any AnyOption)? {
        options.first { $0.name == key || $0.aliases.contains(key) }
    }

    /// Whether `argument` is an option of this command (so it cannot be the previous option's value).
    private func isOption(_ argument: String) -> Bool {
        guard argument.hasPrefix("--") else { return argument == "-h" }
        let key = argument.dropFirst(2).split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
        return key == "help" || lookup(key) != nil
    }

    private func usage(_ message: String) -> UsageError { UsageError(command: command, message: message) }
}
