// `gpt generate`: load a checkpoint and stream sampled text to stdout; the rate goes to stderr.

import Compute
import GPT

let generateCommand = Command(
    name: "generate",
    summary: "generate text from a checkpoint",
    flags: [
        Flag(name: "checkpoint", placeholder: "DIR", defaultValue: nil, help: "checkpoint directory (from gpt train)",
             required: true),
        Flag(name: "prompt", placeholder: "TEXT", defaultValue: "\\n", help: "text to continue (escapes: \\n, \\t, \\\\)"),
        Flag(name: "max-tokens", placeholder: "N", defaultValue: "500", help: "tokens to generate"),
        Flag(name: "temperature", placeholder: "T", defaultValue: "0.8", help: "sampling temperature; 0 = greedy"),
        Flag(name: "top-k", placeholder: "K", defaultValue: "0", help: "sample among the K most likely tokens; 0 = all"),
        Flag(name: "seed", placeholder: "S", defaultValue: "1337", help: "sampling seed"),
        Flag(name: "backend", placeholder: "NAME", defaultValue: "auto", help: "compute backend (see gpt backends)"),
        Flag(name: "threads", placeholder: "N", defaultValue: nil, help: "CPU threads for CPU backends (default: all)"),
    ]
) { arguments in
    let maxTokens = try arguments.int("max-tokens", atLeast: 0)!
    let temperature = try arguments.float("temperature", atLeast: 0)!
    let topK = try arguments.int("top-k", atLeast: 0)!
    let seed = try arguments.seed("seed")!
    let threads = try arguments.int("threads", atLeast: 1)
    let prompt = unescape(arguments.string("prompt")!)
    guard !prompt.isEmpty else { throw UsageError(command: "generate", message: "--prompt must not be empty") }

    let backend = try backendRegistry.make(arguments.string("backend")!, options: BackendOptions(threads: threads))
    let (model, tokenizer) = try Checkpoint.load(from: arguments.string("checkpoint")!, backend: backend)
    let promptTokens: [Int32]
    do {
        promptTokens = try tokenizer.encode(prompt)
    } catch {
        throw RuntimeError("prompt: \(error)")
    }
    var sampler = try Sampler(temperature: temperature, topK: topK, seed: seed)

    Console.write(prompt)
    let start = ContinuousClock.now
    // BPE tokens may end inside a UTF-8 character: hold such bytes back until it is complete.
    var pending: [UInt8] = []
    let generated = try Generator(model: model).generate(prompt: promptTokens, maxTokens: maxTokens,
                                                          sampler: &sampler) { token in
        pending += tokenizer.decodeBytes([token])
        let complete = completeUTF8Prefix(pending)
        guard complete > 0 else { return }
        Console.write(String(decoding: pending[..<complete], as: UTF8.self))
        pending.removeFirst(complete)
    }
    if !pending.isEmpty { Console.write(String(decoding: pending, as: UTF8.self)) }
    let elapsed = seconds(since: start)
    Console.write("\n")
    Console.error("[\(generated.count) tokens in \(Format.duration(elapsed)), "
                  + "\(Format.fixed(Double(generated.count) / max(elapsed, 1e-9), 1)) tok/s on \(backend.name)]")
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
