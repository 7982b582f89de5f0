// `gpt generate --prompts-file FILE --output FILE`: one prompt per line (escapes \n, \t, \\ allowed),
// completed in order. The output holds one block per prompt, headed "=== prompt N ===" where N is
// the prompt's line number in FILE, then the prompt and its completion. A line that cannot be used
// (empty, not UTF-8, longer than LineReader's bound, or a character the tokenizer does not know) is
// reported on stderr with its line number and skipped, so one bad line does not cost the rest; a
// file with no usable line is an error. The file must be a regular file, read line by line; the
// output is written as the completions come (StreamedOutput) and is never the prompts file.

import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GPT
import Tokenizers

struct PromptsFileRun {
    let model: GPTModel
    let tokenizer: any Tokenizer
    let settings: SamplingSettings
    let useKVCache: Bool

    func run(promptsPath: String, outputPath: String) throws {
        let descriptor = try FileIO.openRegularFile(promptsPath)
        defer { close(descriptor) }
        var prompts = stat(), existing = stat()
        if fstat(descriptor, &prompts) == 0, stat(outputPath, &existing) == 0,
           prompts.st_dev == existing.st_dev, prompts.st_ino == existing.st_ino {
            throw RuntimeError("--output \(outputPath): is the --prompts-file; choose another file")
        }
        let output = try StreamedOutput(path: outputPath, flag: "--output")
        var reader = LineReader(descriptor: descriptor, name: promptsPath)
        var completed = 0, skipped = 0, totalTokens = 0, totalSeconds = 0.0
        while let next = try reader.next() {
            let number = reader.lineNumber
            let line: String
            switch next {
            case let .text(text):
                line = text
            case .invalidUTF8:
                Console.error("\(promptsPath):\(number): skipped: not valid UTF-8 text")
                skipped += 1
                continue
            case .tooLong:
                Console.error("\(promptsPath):\(number): skipped: longer than \(reader.limit) bytes")
                try reader.discardRestOfLine()
                skipped += 1
                continue
            }
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
            try output.append("=== prompt \(number) ===\n\(prompt)\(completion)\n")
            completed += 1
            totalTokens += stats.tokens
            totalSeconds += stats.seconds
            Console.error("prompt \(number): " + rateLine(stats, backend: model.backend, useKVCache: useKVCache))
        }
        guard reader.lineNumber > 0 else { throw RuntimeError("\(promptsPath): no prompts (the file is empty)") }
        guard completed > 0 else {
            throw RuntimeError("\(promptsPath): none of its \(reader.lineNumber) lines is a usable prompt")
        }
        try output.finish()
        print("wrote \(outputPath): \(completed) completions" + (skipped > 0 ? ", \(skipped) lines skipped" : "")
              + ", \(totalTokens) tokens, \(Format.fixed(Double(totalTokens) / max(totalSeconds, 1e-9), 1)) tok/s")
    }
}
