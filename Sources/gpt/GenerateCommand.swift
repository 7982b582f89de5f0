// `gpt generate`: load a checkpoint and continue text. Modes: one --prompt (the default) streamed to
// stdout; --interactive, a prompt loop on stdin (InteractiveSession.swift); --prompts-file with
// --output, one completion per line of a file (PromptsFile.swift). Rates go to stderr.

import Compute
import GPT
import Tokenizers

struct GenerateOptions: OptionGroup {
    let checkpoint = Option("checkpoint", .path("DIR"), required: true,
                            help: "checkpoint directory (from gpt train, or saved by transformers: GPT-2, Llama)")
    let prompt = Option("prompt", .escapedText("TEXT"), default: "\n", help: "text to continue (escapes: \\n, \\t, \\\\)")
    let interactive = Option(onOff: "interactive", help: "read prompts from stdin, one per line; :help lists the commands")
    let promptsFile = Option("prompts-file", .path("FILE"),
                             help: "continue each line of FILE (bad lines are reported with their number and skipped)")
    let output = Option("output", .path("FILE"), help: "where --prompts-file writes its '=== prompt N ===' blocks")
    let sampling = SamplingSettings.options()
    let noKVCache = Option(onOff: "no-kv-cache", help: "recompute the whole window for every token (slow; for comparison)")
    let backend = BackendSelection()
    let memoryLimit = CommonOptions.memoryLimit()

    var all: [any AnyOption] {
        [checkpoint, prompt, interactive, promptsFile, output] + sampling.options() + [noKVCache] + backend.all
            + [memoryLimit]
    }
}

let generateCommand = Command("generate", summary: "generate text from a checkpoint",
                              options: GenerateOptions.self) { options in
    let settings = options.sampling.applied(to: SamplingSettings())
    do {
        _ = try settings.makeSampler()
    } catch {
        throw UsageError(command: "generate", message: "\(error)")
    }
    let modes = ([options.prompt, options.interactive, options.promptsFile] as [any AnyOption]).filter(\.wasGiven)
        .map { "--" + $0.name }
    if modes.count > 1 {
        throw UsageError(command: "generate", message: "give one of --prompt, --interactive and --prompts-file, not "
                         + modes.joined(separator: " and "))
    }
    if options.promptsFile.wasGiven != options.output.wasGiven {
        throw UsageError(command: "generate", message: "--prompts-file and --output go together")
    }
    let backend = try options.backend.make()
    let limit = options.memoryLimit.given
    let (model, tokenizer) = try Checkpoint.load(from: options.checkpoint.value, backend: backend) { config in
        try checkMemory(try MemoryEstimate.inference(config, maxTokens: settings.maxTokens), backend: backend,
                        limit: limit, work: "the model", hint: "use a smaller --max-tokens, or a device with more memory")
    }
    let useKVCache = !options.noKVCache.value
    if options.interactive.value {
        let config = model.config
        var session = InteractiveSession(model: model, tokenizer: tokenizer, settings: settings, useKVCache: useKVCache) {
            try checkMemory(try MemoryEstimate.inference(config, maxTokens: $0.maxTokens), backend: backend, limit: limit,
                            work: "generating", hint: "use a smaller :max-tokens")
        }
        try session.run()
    } else if let promptsFile = options.promptsFile.given, let outputFile = options.output.given {
        try PromptsFileRun(model: model, tokenizer: tokenizer, settings: settings, useKVCache: useKVCache)
            .run(promptsPath: promptsFile, outputPath: outputFile)
    } else {
        try continuePrompt(options.prompt.value, model: model, tokenizer: tokenizer, settings: settings,
                           useKVCache: useKVCache)
    }
}

/// The default mode: the prompt, then its completion as it is generated, then the rate on stderr.
private func continuePrompt(_ prompt: String, model: GPTModel, tokenizer: any Tokenizer, settings: SamplingSettings,
                            useKVCache: Bool) throws {
    let promptTokens: [Int32]
    do {
        let encoded = try encodePrompt(prompt, tokenizer: tokenizer, contextLength: model.config.contextLength)
        promptTokens = encoded.tokens
        if let note = encoded.note { Console.error(note) }
    } catch let error as PromptError {
        throw RuntimeError(error.description)
    }
    Console.write(prompt)
    let stats = try streamCompletion(model: model, tokenizer: tokenizer, prompt: promptTokens, settings: settings,
                                     useKVCache: useKVCache) { Console.write($0) }
    Console.write("\n")
    Console.error(rateLine(stats, backend: model.backend, useKVCache: useKVCache))
}
