// The `gpt` binary's failure paths: usage errors exit 64, runtime errors exit 1, each with exactly
// one line on stderr naming the subcommand and what was wrong.

import Foundation
import Testing

@Suite struct CLIErrorTests {
    @Test(arguments: [
        (["train", "--data", "{missing}", "--config", "{tiny}"], "no-such-file.txt: no such file"),
        (["train", "--data", "{empty}", "--config", "{tiny}"], "empty.txt: the file is empty"),
        (["train", "--data", "{short}"], "text too short for context length 64"),
        (["train", "--data", "{corpus}", "--config", "nope"], "unknown preset 'nope'; known presets: char-baby"),
        (["train", "--data", "{corpus}", "--config", "{malformed}"], "malformed.json: invalid JSON at byte "),
        (["train", "--data", "{corpus}", "--config", "{wrong-type}"], "wrong-type.json: layers must be an integer"),
        (["generate", "--checkpoint", "{missing}"], "no such checkpoint directory"),
        (["generate", "--checkpoint", "{checkpoint}", "--prompt", "ROMEO€"], "prompt: character \"€\" (U+20AC) at position 5"),
    ])
    func runtimeErrorsExitOneWithOneLine(arguments: [String], expected: String) throws {
        let run = try CLI.run(Fixture.shared.substitute(arguments))
        #expect(run.status == 1)
        #expect(run.stderrLines.count == 1, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("gpt \(arguments[0]): "), "\(run.stderr)")
        #expect(run.stderr.contains(expected), "\(run.stderr)")
    }

    @Test(arguments: [
        (["generate", "--checkpoint", "{checkpoint}", "--max-tokens", "-3"], "--max-tokens must be at least 0, got -3"),
        (["generate", "--checkpoint", "{checkpoint}", "--temperature", "hot"], "--temperature expects a number, got 'hot'"),
        (["generate", "--checkpoint", "{checkpoint}", "--top-k"], "missing value for --top-k"),
        (["generate", "--prompt", "x"], "missing required flag --checkpoint"),
        (["train", "--data", "{corpus}", "--steps", "many"], "--steps expects an integer, got 'many'"),
        (["train", "--data", "{corpus}", "--bogus", "1"], "unknown flag '--bogus'"),
        (["train", "--data", "{corpus}", "--steps", "1", "--steps", "2"], "--steps is given more than once"),
        (["train", "stray"], "unexpected argument 'stray'"),
        (["train", "--data", "{corpus}", "--backend", "cuda"], "--backend expects one of auto, blas, opencl, reference, got 'cuda'"),
        (["fly"], "unknown command 'fly'"),
    ])
    func usageErrorsExitSixtyFourWithOneLine(arguments: [String], expected: String) throws {
        let run = try CLI.run(Fixture.shared.substitute(arguments))
        #expect(run.status == 64)
        #expect(run.stderrLines.count == 1, "\(run.stderr)")
        let command = arguments[0] == "fly" ? "gpt" : "gpt \(arguments[0])"
        #expect(run.stderr == "\(command): \(expected) (see \(command) --help)\n", "\(run.stderr)")
    }

    @Test func truncatedSafetensorsInACheckpointIsRefused() throws {
        let fixture = Fixture.shared
        let copy = fixture.directory + "/truncated-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: fixture.checkpoint, toPath: copy)
        let weights = URL(fileURLWithPath: copy + "/model.safetensors")
        let data = try Data(contentsOf: weights)
        try data.prefix(data.count - 100).write(to: weights)
        let run = try CLI.run(["generate", "--checkpoint", copy, "--backend", "reference"])
        #expect(run.status == 1)
        #expect(run.stderrLines.count == 1, "\(run.stderr)")
        #expect(run.stderr.contains("model.safetensors: invalid safetensors file") && run.stderr.contains("truncated"),
                "\(run.stderr)")
    }

    @Test(arguments: ["train", "generate", "backends"])
    func helpListsEveryFlagWithItsDefault(command: String) throws {
        let run = try CLI.run([command, "--help"])
        #expect(run.status == 0 && run.stderr.isEmpty)
        #expect(run.stdout.hasPrefix("gpt \(command): "))
        #expect(run.stdout.contains("-h, --help"))
        if command == "train" {
            for flag in ["--data FILE", "--config PRESET|FILE.json", "--backend NAME", "--steps N", "--batch-size B",
                         "--lr X", "--seed S", "--out DIR", "--eval-every N", "--eval-batches N", "--warmup N", "--dropout P"] {
                #expect(run.stdout.contains(flag), "\(flag)")
            }
            #expect(run.stdout.contains("(default: 2000)"))
            #expect(run.stdout.contains("(default: on --resume, the data the checkpoint records)"))
        }
        if command == "generate" {
            for flag in ["--checkpoint DIR", "--prompt TEXT", "--max-tokens N", "--temperature T", "--top-k K", "--seed S"] {
                #expect(run.stdout.contains(flag), "\(flag)")
            }
            #expect(run.stdout.contains("(required)"))
        }
    }

    @Test func topLevelHelpListsCommandsAndNoArgumentsIsAUsageError() throws {
        let help = try CLI.run(["--help"])
        #expect(help.status == 0)
        for command in ["backends", "train", "generate"] { #expect(help.stdout.contains("  \(command) ")) }
        let bare = try CLI.run([])
        #expect(bare.status == 64 && bare.stderr.contains("Usage: gpt <command>"))
    }
}
