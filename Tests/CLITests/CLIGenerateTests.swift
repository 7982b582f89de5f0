// `gpt generate`'s modes: greedy output is deterministic and the same with and without the KV
// cache; the interactive loop driven through stdin; a prompts file completed in order; prompts that
// are empty, hold unknown characters or exceed the context.

import Foundation
import Testing

@Suite struct CLIGenerateTests {
    /// Runs `gpt arguments...` with `input` on stdin.
    static func run(_ arguments: [String], input: String) throws -> Run {
        let scratch = NSTemporaryDirectory() + "gpt-stdin-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        for name in ["in", "out", "err"] { _ = FileManager.default.createFile(atPath: scratch + "/" + name, contents: nil) }
        try input.write(toFile: scratch + "/in", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = arguments
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: scratch + "/in"))
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch + "/out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch + "/err"))
        try process.run()
        process.waitUntilExit()
        return Run(status: process.terminationStatus,
                   stdout: try String(contentsOfFile: scratch + "/out", encoding: .utf8),
                   stderr: try String(contentsOfFile: scratch + "/err", encoding: .utf8))
    }

    static let base = ["generate", "--checkpoint", Fixture.shared.checkpoint, "--backend", "reference"]

    /// The greedy completion of `prompt` in single-prompt mode.
    static func greedy(_ prompt: String, tokens: Int = 20, extra: [String] = []) throws -> Run {
        try CLI.run(base + ["--prompt", prompt, "--temperature", "0", "--max-tokens", "\(tokens)"] + extra)
    }

    @Test func greedyIsDeterministicAndTheSameWithoutTheKVCache() throws {
        let cached = try Self.greedy("ROMEO:", tokens: 40)
        #expect(cached.status == 0, "\(cached.stderr)")
        #expect(cached.stderr.contains("KV cache]"))
        #expect(try Self.greedy("ROMEO:", tokens: 40).stdout == cached.stdout)
        let recomputed = try Self.greedy("ROMEO:", tokens: 40, extra: ["--no-kv-cache"])
        #expect(recomputed.status == 0 && recomputed.stderr.contains("no KV cache]"))
        #expect(recomputed.stdout == cached.stdout)
        // top-k 1 and a tiny top-p leave only the most likely token: greedy again.
        let topK = try CLI.run(Self.base + ["--prompt", "ROMEO:", "--temperature", "1", "--top-k", "1", "--max-tokens", "40"])
        #expect(topK.stdout == cached.stdout)
        let topP = try CLI.run(Self.base + ["--prompt", "ROMEO:", "--temperature", "1", "--top-p", "0.0001", "--max-tokens", "40"])
        #expect(topP.stdout == cached.stdout)
    }

    @Test func interactiveModeReadsPromptsAndCommandsFromStdin() throws {
        let expected = try Self.greedy("ROMEO:", tokens: 15).stdout
        let input = ":temperature 0\n:max-tokens 15\n:bogus 1\n:top-p 7\n\nROMEO€\nROMEO:\n:quit\nJULIET:\n"
        let run = try Self.run(Self.base + ["--interactive"], input: input)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == expected)  // one completion: nothing after :quit
        #expect(run.stderr.contains("temperature = 0") && run.stderr.contains("max-tokens = 15"))
        #expect(run.stderr.contains("unknown command ':bogus'"))
        #expect(run.stderr.contains(":top-p: top-p must be in (0, 1]"))
        #expect(run.stderr.contains("empty prompt"))
        #expect(run.stderr.contains("character \"€\" (U+20AC) at position 5"))
        #expect(run.stderr.contains("15 tokens in"))

        let endOfInput = try Self.run(Self.base + ["--interactive", "--temperature", "0", "--max-tokens", "15"],
                                      input: ":help\n:settings\nROMEO:")
        #expect(endOfInput.status == 0)
        #expect(endOfInput.stdout.hasSuffix(expected) && endOfInput.stdout.contains(":quit"))
        #expect(endOfInput.stdout.contains("temperature 0.0, top-k 0"))
    }

    @Test func promptsFileIsCompletedInOrderAndBadLinesAreSkippedWithTheirNumber() throws {
        let directory = Fixture.shared.directory + "/prompts-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "JULIET:\n\nROMEO€\nROMEO:\n".write(toFile: directory + "/prompts.txt", atomically: true, encoding: .utf8)
        let run = try CLI.run(Self.base + ["--prompts-file", directory + "/prompts.txt", "--output", directory + "/out.txt",
                                           "--temperature", "0", "--max-tokens", "12"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("2 completions, 2 lines skipped"))
        #expect(run.stderr.contains("prompts.txt:2: skipped: empty prompt"))
        #expect(run.stderr.contains("prompts.txt:3: skipped: prompt: character \"€\""))
        let output = try String(contentsOfFile: directory + "/out.txt", encoding: .utf8)
        let juliet = try Self.greedy("JULIET:", tokens: 12).stdout, romeo = try Self.greedy("ROMEO:", tokens: 12).stdout
        #expect(output == "=== prompt 1 ===\n" + juliet + "=== prompt 4 ===\n" + romeo)

        try "\n€\n".write(toFile: directory + "/bad.txt", atomically: true, encoding: .utf8)
        let none = try CLI.run(Self.base + ["--prompts-file", directory + "/bad.txt", "--output", directory + "/none.txt"])
        #expect(none.status == 1 && none.stderr.contains("none of its 2 lines is a usable prompt"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/none.txt"))
        let alone = try CLI.run(Self.base + ["--prompts-file", directory + "/prompts.txt"])
        #expect(alone.status == 64 && alone.stderr.contains("--prompts-file and --output go together"))
    }

    @Test func promptLongerThanTheContextKeepsItsEndAndSaysSo() throws {
        let long = String(repeating: "love is light. ", count: 4)  // 60 characters, context 16
        let run = try Self.greedy(long, tokens: 5)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("prompt is 60 tokens, longer than the context of 16: keeping its last 16"))
        let empty = try CLI.run(Self.base + ["--prompt", ""])
        #expect(empty.status == 1 && empty.stderr.contains("empty prompt"))
    }
}
