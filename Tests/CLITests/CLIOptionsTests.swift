// The typed options every command is declared with: the common backend set (--backend, --device,
// --threads, --seed, --config) on every command that runs a backend, `--name=value`, aliases, on/off
// options, choices that list their values, a run config as bench's --config, and the interactive
// prompt's `:name value` commands, which share gpt generate's declarations and so its messages.

import Foundation
import Testing

@Suite struct CLIOptionsTests {
    @Test(arguments: ["train", "generate", "bench", "profile", "conformance"])
    func everyCommandThatRunsABackendTakesTheCommonOptions(command: String) throws {
        let run = try CLI.run([command, "--help"])
        #expect(run.status == 0, "\(run.stderr)")
        for option in ["--backend NAME", "--device ID", "--threads N"] {
            #expect(run.stdout.contains(option), "\(command): \(option)")
        }
        if command != "conformance" { #expect(run.stdout.contains("--seed S"), "\(command)") }
        if command != "generate" && command != "conformance" {
            #expect(run.stdout.contains("--config PRESET|FILE.json"), "\(command)")
        }
    }

    @Test func benchAndProfileRunWithADevice() throws {
        let kernel = try CLI.run(["bench", "--backend", "reference", "--device", "0", "--op", "matmul",
                                  "--shape", "4,4,4", "--repeat", "1"])
        #expect(kernel.status == 0, "\(kernel.stderr)")
        let profile = try CLI.run(["profile", "--backend=reference", "--device=0", "--config", BenchProfileTests.tiny,
                                   "--steps", "1", "--warmup-steps", "0", "--batch-size", "1"])
        #expect(profile.status == 0, "\(profile.stderr)")
        #expect(profile.stdout.contains("backend: reference"))
    }

    @Test func benchTakesARunConfigAsItsConfig() throws {
        let path = BenchProfileTests.directory + "/run-config-\(UUID().uuidString).json"
        try #"{"model": {"preset": "char-baby", "layers": 1, "embeddingDim": 16, "heads": 2, "ffnDim": 32, "contextLength": 8}}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let run = try CLI.run(["bench", "--backend", "reference", "--config", path, "--steps", "1",
                               "--warmup-steps", "0", "--batch-size", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("config: 1 layers, 2 heads, 16 dim, ffn 32, context 8"), "\(run.stdout)")
    }

    @Test(arguments: [
        (["bench", "--steps=0"], "gpt bench: --steps must be at least 1, got 0"),
        (["train", "--data", "x", "--eval-interval", "2", "--eval-every", "3"],
         "gpt train: give --eval-interval or --eval-every, not both"),
        (["generate", "--checkpoint", "x", "--interactive=yes"], "gpt generate: --interactive takes no value"),
        (["conformance", "--cases", "all"], "gpt conformance: --cases expects standard or extended, got 'all'"),
        (["prepare", "--input", "a.txt", "--out", "x", "--val-fraction", "0"], "gpt prepare: --val-fraction must be above 0, got 0"),
        (["train", "--data", "x", "--memory-limit", "lots"],
         "gpt train: --memory-limit expects a byte count such as 512M or 8G, got 'lots'"),
    ])
    func mistakesAreOneLineUsageErrors(arguments: [String], expected: String) throws {
        let run = try CLI.run(arguments)
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderrLines.count == 1, "\(run.stderr)")
        #expect(run.stderr.hasPrefix(expected + " (see gpt "), "\(run.stderr)")
    }

    @Test func interactiveCommandsShareTheFlagsValueTypesAndHelp() throws {
        let generate = ["generate", "--checkpoint", Fixture.shared.checkpoint, "--backend", "reference"]
        let flag = try CLI.run(generate + ["--max-tokens", "-3"])
        #expect(flag.stderr.contains("--max-tokens must be at least 0, got -3"), "\(flag.stderr)")
        let input = ":help\n:max-tokens -3\n:temperature hot\n:seed -1\n:top-k 2 3\n:quit\n"
        let run = try CLIGenerateTests.run(generate + ["--interactive"], input: input)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains(":max-tokens: must be at least 0, got -3"), "\(run.stderr)")
        #expect(run.stderr.contains(":temperature: expects a number, got 'hot'"), "\(run.stderr)")
        #expect(run.stderr.contains(":seed: expects a non-negative integer, got '-1'"), "\(run.stderr)")
        #expect(run.stderr.contains(":top-k: expects one value"), "\(run.stderr)")
        let help = try CLI.run(["generate", "--help"]).stdout
        for name in ["max-tokens", "temperature", "top-k", "top-p", "repetition-penalty", "seed"] {
            let line = try #require(help.split(separator: "\n").first { $0.hasPrefix("  --\(name) ") })
            let text = line.split(separator: " ", maxSplits: 2).last.map { $0.split(separator: " (default:")[0] }
            #expect(run.stdout.contains(":\(name) "), "\(name)")
            #expect(text.map { run.stdout.contains($0.trimmingCharacters(in: .whitespaces)) } == true, "\(name): \(line)")
        }
    }
}
