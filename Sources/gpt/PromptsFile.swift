// `gpt generate --prompts-file FILE --output FILE`: one prompt per line (escapes \n, \t, \\ allowed),
// completed in order. The output holds one block per prompt, headed "=== prompt N ===" where N is
// the prompt's line number in FILE, then the prompt and its completion. A line that cannot be used
// (empty, or a character the tokenizer does not know) is reported on stderr with its line number
// and skipped, so one bad line does not cost the rest; a file with no usable line is an error.

import FoundationEssentials
import GPT
import Tokenizers

struct PromptsFileRun {
    let model: GPTModel
    let tokenizer: any Tokenizer
    let settings: SamplingSettings
    let useKVCache: Bool

    func run(promptsPath: String, outputPath: String) throws {
        let text = try FileIO.readText(promptsPath)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if text.hasSuffix("\n") { lines.removeLast() }  // the final newline ends the last line
        guard !lines.isEmpty else { throw RuntimeError("\(promptsPath): no prompts (the file is empty)") }

        var output = "", completed = 0, skipped = 0, totalTokens = 0, totalSeconds = 0.0
        for (index, rawLine) in lines.enumerated() {
            let number = index + 1
            let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : rawLine
            let prompt = unescape(line)
            let tokens: [Int32]
            do {
                let encoded = try encodePrompt(prompt, tokenizer: tokenizer, contextLength: model.config.contextLength)
                tokens = encoded.tokens
                if let note = encoded.note { Console.error("\(promptsPath):\(number): \(note)") }
            } catch let error as PromptError {
                Console.error("\(promptsPath):\(number): skipped: \(error)")
                skipped += 1
                continue
            }
            var completion = ""
            let stats = try streamCompletion(model: model, tokenizer: tokenizer, prompt: tokens, settings: settings,
                                             useKVCache: useKVCache) { completion += $0 }
            output += "=== prompt \(number) ===\n\(prompt)\(completion)\n"
            completed += 1
            totalTokens += stats.tokens
            totalSeconds += stats.seconds
            Console.error("prompt \(number): " + rateLine(stats, backend: model.backend, useKVCache: useKVCache))
        }
        guard completed > 0 else {
            throw RuntimeError("\(promptsPath): none of its \(lines.count) lines is a usable prompt")
        }
        try FileIO.writeDurably(Data(output.utf8), to: outputPath)
        print("wrote \(outputPath): \(completed) completions" + (skipped > 0 ? ", \(skipped) lines skipped" : "")
              + ", \(totalTokens) tokens, \(Format.fixed(Double(totalTokens) / max(totalSeconds, 1e-9), 1)) tok/s")
    }
}
