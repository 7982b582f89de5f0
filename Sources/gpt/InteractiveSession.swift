// `gpt generate --interactive`: a prompt loop over stdin lines. A line is a prompt (escapes \n, \t,
// \\ allowed) whose completion streams to stdout; a line starting with ':' is a command that changes
// a setting (`:temperature 0.7`, `:top-k 40`, ...: gpt generate's sampling flags, declared once),
// shows them (`:settings`, `:help`) or leaves (`:quit`; end of input leaves too). A bad command or
// prompt gets one line on stderr and the loop goes on; a line longer than LineReader's bound (stdin
// with no newline in sight) ends the session with an error.

import GPT
import Tokenizers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct InteractiveSession {
    let model: GPTModel
    let tokenizer: any Tokenizer
    var settings: SamplingSettings
    let useKVCache: Bool
    /// Refuses settings whose generation would not fit in memory (a huge :max-tokens), as the
    /// flags' were refused before the model was loaded.
    let checkMemory: (SamplingSettings) throws -> Void

    /// The `:name value` commands: the same declarations as gpt generate's sampling flags.
    private let settingOptions = SamplingSettings.options()

    init(model: GPTModel, tokenizer: any Tokenizer, settings: SamplingSettings, useKVCache: Bool,
         checkMemory: @escaping (SamplingSettings) throws -> Void) {
        self.model = model
        self.tokenizer = tokenizer
        self.settings = settings
        self.useKVCache = useKVCache
        self.checkMemory = checkMemory
    }

    /// The commands, from their declarations.
    var help: String {
        let commands = settingOptions.map { (":\($0.name) \($0.option.placeholder)", $0.option.help) }
            + [(":settings", "show the current settings"), (":help", "this text"),
               (":quit", "leave (end of input leaves too)")]
        let width = commands.map(\.0.count).max()! + 3
        return (["Type a prompt and press return to continue it. Commands:"] + commands.map { command, text in
            "  " + command + String(repeating: " ", count: width - command.count) + text
        }).joined(separator: "\n")
    }

    /// Runs until `:quit` or end of input.
    mutating func run() throws {
        let showPrompt = isatty(STDIN_FILENO) == 1  // no "> " in piped transcripts
        var reader = LineReader(descriptor: STDIN_FILENO, name: "stdin")
        while true {
            if showPrompt { Console.write("> ") }
            guard let next = try reader.next() else { break }
            let line: String
            switch next {
            case let .text(text):
                line = text
            case .invalidUTF8:
                Console.error("stdin: line \(reader.lineNumber) is not valid UTF-8 text; skipped")
                continue
            case .tooLong:
                throw RuntimeError("stdin: line \(reader.lineNumber) runs past \(reader.limit) bytes without a newline; "
                                   + "a prompt is one line")
            }
            if line.hasPrefix(":") {
                if try !command(line) { break }
                continue
            }
            do {
                let (tokens, note) = try encodePrompt(unescape(line), tokenizer: tokenizer,
                                                      contextLength: model.config.contextLength)
                if let note { Console.error(note) }
                Console.write(unescape(line))
                let stats = try streamCompletion(model: model, tokenizer: tokenizer, prompt: tokens, settings: settings,
                                                 useKVCache: useKVCache) { Console.write($0) }
                Console.write("\n")
                Console.error(rateLine(stats, backend: model.backend, useKVCache: useKVCache))
            } catch let error as PromptError {
                Console.error(error.description + (line.isEmpty ? " (or :help, :quit)" : ""))
            }
        }
    }

    /// Applies one `:command [value]` line; returns false when the loop should end.
    private mutating func command(_ line: String) throws -> Bool {
        let parts = line.dropFirst().split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let name = parts.first else {
            Console.error("empty command: type :help for the list")
            return true
        }
        switch name {
        case "quit", "q", "exit":
            return false
        case "help":
            print(help)
        case "settings":
            print(settings.summary)
        default:
            change(name, to: Array(parts.dropFirst()))
        }
        return true
    }

    /// `:name value`: parsed by the option's value type, then checked by the sampler, which owns
    /// the ranges that depend on each other.
    private mutating func change(_ name: String, to values: [String]) {
        guard let setting = settingOptions.first(where: { $0.name == name }) else {
            Console.error("unknown command ':\(name)' (see :help)")
            return
        }
        guard values.count == 1, let value = values.first else {
            Console.error(":\(name): " + (values.isEmpty ? "missing value (see :help)" : "expects one value"))
            return
        }
        var changed = settings
        do {
            try setting.set(&changed, value)
            _ = try changed.makeSampler()
            try checkMemory(changed)
        } catch let error as InvalidValue {
            Console.error(":\(name): \(error.phrase)")
            return
        } catch {
            Console.error(":\(name): \(error)")
            return
        }
        settings = changed
        Console.error("\(name) = \(value)")
    }
}
