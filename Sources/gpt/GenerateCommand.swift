// `gpt generate`: load a checkpoint and continue text. Modes: one --prompt (the default) streamed to
// stdout; --interactive, a prompt loop on stdin (InteractiveSession.swift); --prompts-file with
// --output, one completion per line of a file (PromptsFile.swift). Rates go to stderr.

import Compute
import GPT

let generateCommand = Command(
    name: "generate",
    summary: "generate text from a checkpoint",
    flags: [
        Flag(name: "checkpoint", placeholder: "DIR", defaultValue: nil, help: "checkpoint directory (from gpt train)",
             required: true),
        Flag(name: "prompt", placeholder: "TEXT", defaultValue: "\\n", help: "text to continue (escapes: \\n, \\t, \\\\)"),
        Flag.onOff("interactive", help: "read prompts from stdin, one per line; :help lists the commands"),
        Flag(name: "prompts-file", placeholder: "FILE", defaultValue: nil,
             help: "continue each line of FILE (bad lines are reported with their number and skipped)"),
        Flag(name: "output", placeholder: "FILE", defaultValue: nil,
             help: "where --prompts-file writes its '=== prompt N ===' blocks"),
        Flag(name: "max-tokens", placeholder: "N", defaultValue: "500", help: "tokens to generate"),
        Flag(name: "temperature", placeholder: "T", defaultValue: "0.8", help: "sampling temperature; 0 = greedy"),
        Flag(name: "top-k", placeholder: "K", defaultValue: "0", help: "sample among the K most likely tokens; 0 = all"),
        Flag(name: "top-p", placeholder: "P", defaultValue: "1",
             help: "sample among the most likely tokens reaching probability P; 1 = all"),
        Flag(name: "repetition-penalty", placeholder: "R", defaultValue: "1",
             help: "make tokens in the context window less likely (CTRL form); 1 = off"),
        Flag(name: "seed", placeholder: "S", defaultValue: "1337", help: "sampling seed"),
        Flag.onOff("no-kv-cache", help: "recompute the whole window for every token (slow; for comparison)"),
        Flag(name: "backend", placeholder: "NAME", defaultValue: "auto", help: "compute backend (see gpt backends)"),
        Flag(name: "device", placeholder: "ID", defaultValue: nil, help: "device index or name substring (OpenCL)"),
        Flag(name: "threads", placeholder: "N", defaultValue: nil, help: "CPU threads for CPU backends (default: all)"),
    ]
) { arguments in
    var settings = SamplingSettings()
    settings.maxTokens = try arguments.int("max-tokens", atLeast: 0)!
    settings.temperature = try arguments.float("temperature", atLeast: 0)!
    settings.topK = try arguments.int("top-k", atLeast: 0)!
    settings.topP = try arguments.float("top-p", atLeast: 0)!
    settings.repetitionPenalty = try arguments.float("repetition-penalty", atLeast: 1)!
    settings.seed = try arguments.seed("seed")!
    do {
        _ = try settings.makeSampler()
    } catch {
        throw UsageError(command: "generate", message: "\(error)")
    }
    let threads = try arguments.int("threads", atLeast: 1)
    let useKVCache = !arguments.isOn("no-kv-cache")
    let interactive = arguments.isOn("interactive")
    let promptsFile = arguments.string("prompts-file"), outputFile = arguments.string("output")
    if interactive && promptsFile != nil {
        throw UsageError(command: "generate", message: "choose one of --interactive and --prompts-file")
    }
    if (promptsFile == nil) != (outputFile == nil) {
        throw UsageError(command: "generate", message: "--prompts-file and --output go together")
    }

    let backend = try backendRegistry.make(arguments.string("backend")!,
                                           options: BackendOptions(device: arguments.string("device"), threads: threads))
    let (model, tokenizer) = try Checkpoint.load(from: arguments.string("checkpoint")!, backend: backend)

    if interactive {
        var session = InteractiveSession(model: model, tokenizer: tokenizer, settings: settings, useKVCache: useKVCache)
        try session.run()
        return
    }
    if let promptsFile, let outputFile {
        try PromptsFileRun(model: model, tokenizer: tokenizer, settings: settings, useKVCache: useKVCache)
            .run(promptsPath: promptsFile, outputPath: outputFile)
        return
    }

    let prompt = unescape(arguments.string("prompt")!)
    let promptTokens: [Int32]
    do {
        let encoded = try encodePrompt(prompt, tokenizer: tokenizer, contextLength: model.config.contextLength)
        promptTokens = encoded.tokens
        if let note = encoded.note { Console.error(note) }
    } catch let error as PromptError {
        throw RuntimeError(error.description)
    }
    Console.write(prompt)
    let (count, elapsed) = try streamCompletion(model: model, tokenizer: tokenizer, prompt: promptTokens,
                                                settings: settings, useKVCache: useKVCache) { Console.write($0) }
    Console.write("\n")
    Console.error(rateLine(tokens: count, seconds: elapsed, backend: backend, useKVCache: useKVCache))
}
