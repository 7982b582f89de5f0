// `gpt generate --interactive`: a prompt loop over stdin lines. A line is a prompt (escapes \n, \t,
// \\ allowed) whose completion streams to stdout; a line starting with ':' is a command that changes
// a setting (`:temperature 0.7`, `:top-k 40`, ...), shows them (`:settings`, `:help`) or leaves
// (`:quit`; end of input leaves too). A bad command or prompt gets one line on stderr and the loop
// goes on.

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

    static let help = """
        Type a prompt and press return to continue it. Commands:
          :temperature T          sampling temperature (0 = greedy)
          :top-k K                keep the K most likely tokens (0 = all)
          :top-p P                keep the smallest set reaching probability P (1 = all)
          :repetition-penalty R   divide logits of recent tokens by R (1 = off)
          :max-tokens N           tokens per completion
          :seed S                 sampling seed (each prompt starts from it)
          :settings               show the current settings
          :help                   this text
          :quit                   leave (end of input leaves too)
        """

    /// Runs until `:quit` or end of input.
    mutating func run() throws {
        let showPrompt = isatty(STDIN_FILENO) == 1  // no "> " in piped transcripts
        while true {
            if showPrompt { Console.write("> ") }
            guard let line = readLine(strippingNewline: true) else { break }
            if line.hasPrefix(":") {
                if try !command(line) { break }
                continue
            }
            do {
                let (tokens, note) = try encodePrompt(unescape(line), tokenizer: tokenizer,
                                                      contextLength: model.config.contextLength)
                if let note { Console.error(note) }
                Console.write(unescape(line))
                let (count, elapsed) = try streamCompletion(model: model, tokenizer: tokenizer, prompt: tokens,
                                                            settings: settings, useKVCache: useKVCache) { Console.write($0) }
                Console.write("\n")
                Console.error(rateLine(tokens: count, seconds: elapsed, backend: model.backend, useKVCache: useKVCache))
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
        let value = parts.count > 1 ? parts[1] : nil
        func fail(_ message: String) -> Bool {
            Console.error(":\(name): \(message)")
            return true
        }
        switch name {
        case "quit", "q", "exit":
            return false
        case "help":
            print(Self.help)
            return true
        case "settings":
            print(settings.summary)
            return true
        default:
            break
        }
        guard ["temperature", "top-k", "top-p", "repetition-penalty", "max-tokens", "seed"].contains(name) else {
            Console.error("unknown command ':\(name)' (see :help)")
            return true
        }
        var changed = settings
        guard parts.count == 2, let value else { return fail(parts.count > 2 ? "expects one value" : "missing value (see :help)") }
        switch name {
        case "temperature":
            guard let number = Float(value) else { return fail("expects a number, got '\(value)'") }
            changed.temperature = number
        case "top-k":
            guard let number = Int(value) else { return fail("expects an integer, got '\(value)'") }
            changed.topK = number
        case "top-p":
            guard let number = Float(value) else { return fail("expects a number, got '\(value)'") }
            changed.topP = number
        case "repetition-penalty":
            guard let number = Float(value) else { return fail("expects a number, got '\(value)'") }
            changed.repetitionPenalty = number
        case "max-tokens":
            guard let number = Int(value), number >= 0 else { return fail("expects an integer >= 0, got '\(value)'") }
            changed.maxTokens = number
        case "seed":
            guard let number = UInt64(value) else { return fail("expects a non-negative integer, got '\(value)'") }
            changed.seed = number
        default:
            return fail("unknown command")
        }
        do {
            _ = try changed.makeSampler()  // the sampler owns the range checks
        } catch {
            return fail("\(error)")
        }
        settings = changed
        Console.error("\(name) = \(value)")
        return true
    }
}
