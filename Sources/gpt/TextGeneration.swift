// What every `gpt generate` mode shares: the sampling settings, turning a prompt into tokens with a
// clear message for each way it can be unusable, and streaming one completion as text.

import Compute
import GPT
import Tokenizers

/// The knobs a user can change (flags, or `:name value` in interactive mode).
struct SamplingSettings {
    var temperature: Float = 0.8
    var topK = 0
    var topP: Float = 1
    var repetitionPenalty: Float = 1
    var maxTokens = 500
    var seed = TrainingSettings().seed

    /// The settings as options: gpt generate's flags and the prompt loop's `:name value` commands.
    static func options() -> [SettingOption<SamplingSettings>] {
        let d = SamplingSettings()
        return [
            SettingOption(Option("max-tokens", .integer(atLeast: 0), default: d.maxTokens, help: "tokens to generate"),
                          \.maxTokens),
            SettingOption(Option("temperature", .number(atLeast: 0, placeholder: "T"), default: d.temperature,
                                 help: "sampling temperature; 0 = greedy"), \.temperature),
            SettingOption(Option("top-k", .integer(atLeast: 0, placeholder: "K"), default: d.topK,
                                 help: "sample among the K most likely tokens; 0 = all"), \.topK),
            SettingOption(Option("top-p", .number(atLeast: 0, placeholder: "P"), default: d.topP,
                                 help: "sample among the most likely tokens reaching probability P; 1 = all"), \.topP),
            SettingOption(Option("repetition-penalty", .number(atLeast: 1, placeholder: "R"), default: d.repetitionPenalty,
                                 help: "make tokens in the context window less likely (CTRL form); 1 = off"),
                          \.repetitionPenalty),
            SettingOption(CommonOptions.seed(), \.seed),
        ]
    }

    /// A fresh sampler: each prompt starts from `seed`, so a prompt's completion is reproducible.
    func makeSampler() throws -> Sampler {
        try Sampler(temperature: temperature, topK: topK, topP: topP, repetitionPenalty: repetitionPenalty, seed: seed)
    }

    var summary: String {
        "temperature \(temperature), top-k \(topK), top-p \(topP), repetition penalty \(repetitionPenalty), "
            + "max tokens \(maxTokens), seed \(seed)"
    }
}

/// A prompt that cannot be generated from, with the reason in one line.
struct PromptError: Error, CustomStringConvertible {
    let description: String
}

/// A prompt's tokens, or why it is unusable. A prompt longer than the context keeps its last T
/// tokens (the model cannot see more), and `note` says so.
func encodePrompt(_ text: String, tokenizer: any Tokenizer, contextLength: Int) throws -> (tokens: [Int32], note: String?) {
    guard !text.isEmpty else { throw PromptError(description: "empty prompt: give at least one character") }
    let tokens: [Int32]
    do {
        tokens = try tokenizer.encode(text)
    } catch {
        throw PromptError(description: "prompt: \(error)")
    }
    guard !tokens.isEmpty else { throw PromptError(description: "prompt: encodes to no tokens") }
    guard tokens.count > contextLength else { return (tokens, nil) }
    return (Array(tokens.suffix(contextLength)),
            "prompt is \(tokens.count) tokens, longer than the context of \(contextLength): keeping its last \(contextLength)")
}

/// What one completion produced, for the rate line.
struct CompletionStats {
    /// Tokens generated, the end-of-sequence token included when generation stopped at one.
    var tokens: Int
    var seconds: Double
    /// Generation ended at one of the tokenizer's end-of-sequence tokens, before max-tokens.
    var reachedEndOfSequence: Bool
}

/// Generates a completion of `prompt`, calling `onText` with each piece of text as it becomes
/// printable (BPE tokens may end inside a UTF-8 character: such bytes wait for the rest). Stops at
/// the tokenizer's end-of-sequence tokens (a Hub tokenizer's EOS, Llama 3's end of turn), which
/// are not shown: they end the text rather than being part of it.
func streamCompletion(model: GPTModel, tokenizer: any Tokenizer, prompt: [Int32], settings: SamplingSettings,
                      useKVCache: Bool, onText: (String) -> Void) throws -> CompletionStats {
    var sampler = try settings.makeSampler()
    let start = ContinuousClock.now
    var pending: [UInt8] = []
    let stopTokens = Set(tokenizer.sequenceBoundaries.endOfSequence)
    let generated = try Generator(model: model, useKVCache: useKVCache, stopTokens: stopTokens)
        .generate(prompt: prompt, maxTokens: settings.maxTokens, sampler: &sampler) { token in
            pending += tokenizer.decodeBytes([token])
            let complete = completeUTF8Prefix(pending)
            guard complete > 0 else { return }
            onText(String(decoding: pending[..<complete], as: UTF8.self))
            pending.removeFirst(complete)
        }
    if !pending.isEmpty { onText(String(decoding: pending, as: UTF8.self)) }
    return CompletionStats(tokens: generated.count, seconds: seconds(since: start),
                           reachedEndOfSequence: generated.last.map(stopTokens.contains) ?? false)
}

/// "[30 tokens in 0.2s, 150.0 tok/s on blas, KV cache]" for stderr; "30 tokens (end of sequence)"
/// when generation stopped at an end-of-sequence token.
func rateLine(_ stats: CompletionStats, backend: any Backend, useKVCache: Bool) -> String {
    "[\(stats.tokens) tokens\(stats.reachedEndOfSequence ? " (end of sequence)" : "") in \(Format.duration(stats.seconds)), "
        + "\(Format.fixed(Double(stats.tokens) / max(stats.seconds, 1e-9), 1)) tok/s "
        + "on \(backend.name), \(useKVCache ? "KV cache" : "no KV cache")]"
}

/// The length of the longest prefix of `bytes` that does not end inside a UTF-8 character (invalid
/// bytes count as complete: they print as U+FFFD rather than being held forever).
func completeUTF8Prefix(_ bytes: [UInt8]) -> Int {
    var index = bytes.count
    var continuation = 0
    while index > 0 && continuation < 3 && bytes[index - 1] & 0xC0 == 0x80 {
        index -= 1
        continuation += 1
    }
    guard index > 0 else { return bytes.count }
    let lead = bytes[index - 1]
    let needed = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0
    return lead >= 0xC0 && needed > continuation ? index - 1 : bytes.count
}

/// Turns the shell-friendly escapes \n, \t and \\ into the characters they name.
func unescape(_ text: String) -> String {
    var out = ""
    var escaping = false
    for character in text {
        if escaping {
            switch character {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "\\": out.append("\\")
            default: out.append("\\"); out.append(character)
            }
            escaping = false
        } else if character == "\\" {
            escaping = true
        } else {
            out.append(character)
        }
    }
    return escaping ? out + "\\" : out
}
