// Issue 12, items 1-6: sizes from checkpoints, configs and flags never crash `gpt` or make it
// allocate what it did not estimate first. Each test is one item's reproduction: the command must
// now end with one line on stderr (exit 1 for a runtime refusal, 64 for a flag out of range), and
// the runs that used to abort on a failed allocation run under `ulimit -v` to prove nothing big
// was allocated before the refusal.

import Foundation
import Testing

@Suite struct CLIResourceTests: CLISuite {
    /// A copy of the fixture checkpoint whose config.json has `old` replaced by `new`.
    static func checkpoint(replacing old: String, with new: String) throws -> String {
        let copy = try scratch("checkpoint") + "/ck"
        try FileManager.default.copyItem(atPath: Fixture.shared.checkpoint, toPath: copy)
        let url = URL(fileURLWithPath: copy + "/config.json")
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.contains(old))
        try text.replacingOccurrences(of: old, with: new).write(to: url, atomically: true, encoding: .utf8)
        return copy
    }

    /// A bare ModelConfig file: char-baby's sizes with `layers`.
    static func modelConfig(layers: Int, embeddingDim: Int = 128) throws -> String {
        let path = try scratch("config") + "/big.json"
        try """
            {"contextLength": 64, "layers": \(layers), "heads": 4, "embeddingDim": \(embeddingDim), "ffnDim": 512,
             "norm": "layer", "activation": "gelu", "positions": "learned", "tiedEmbeddings": true,
             "bias": true, "dropout": 0, "normEpsilon": 1e-5, "ropeTheta": 10000}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Item 1: config.json saying far more layers (or a far longer context) than the weights hold.
    @Test(arguments: [("\"layers\" : 1", "\"layers\" : 100000"),
                      ("\"contextLength\" : 16", "\"contextLength\" : 1000000000000000")])
    func generateRefusesAConfigLargerThanItsWeights(old: String, new: String) throws {
        let checkpoint = try Self.checkpoint(replacing: old, with: new)
        let run = try CLI.run(["generate", "--checkpoint", checkpoint, "--backend", "reference"],
                              virtualMemoryKiB: 4_000_000)
        Self.expectOneLine(run, status: 1, "model.safetensors: invalid checkpoint: holds ", "describes a model of")
    }

    /// Item 1: the memory estimate runs before the model is allocated, against --memory-limit too.
    @Test func generateChecksTheMemoryEstimateFirst() throws {
        let run = try CLI.run(["generate", "--checkpoint", Fixture.shared.checkpoint, "--backend", "reference",
                               "--memory-limit", "1K"])
        Self.expectOneLine(run, status: 1, "gpt generate: the model needs about ", "but --memory-limit holds 1.0 KiB")
        #expect(run.stdout.isEmpty)
    }

    /// Item 2: a ModelConfig of 100000 layers (or a huge embeddingDim) is refused by the estimate,
    /// and 1000 layers (2.4 GB) is refused under a 3 GB address-space limit instead of aborting.
    @Test(arguments: [(100_000, 128, nil), (4, 1_000_000, nil), (1000, 128, 3_000_000)] as [(Int, Int, Int?)])
    func trainRefusesAModelTooLargeBeforeAllocatingIt(layers: Int, embeddingDim: Int, limitKiB: Int?) throws {
        let config = try Self.modelConfig(layers: layers, embeddingDim: embeddingDim)
        let out = try Self.scratch("big-train") + "/out"
        let start = Date()
        let run = try CLI.run(["train", "--data", Fixture.shared.corpus, "--config", config, "--backend", "reference",
                               "--out", out], virtualMemoryKiB: limitKiB ?? 4_000_000)
        Self.expectOneLine(run, status: 1, "gpt train: the run needs about ", " holds ")
        #expect(Date().timeIntervalSince(start) < 60)
        #expect(!run.stdout.contains("step 1/"))
    }

    /// Item 3: counts past the int32 range are usage errors at the flag; counts within it that
    /// need too much memory are refused by the estimate (micro-batches and evaluation batches are
    /// held on the host, so they count).
    @Test(arguments: [
        (["--batch-size", "100000000000000"], 64, "--batch-size must be at most 2147483647, got 100000000000000"),
        (["--grad-accum", "9223372036854775807"], 64, "--grad-accum must be at most 2147483647"),
        (["--eval-batches", "9223372036854775807"], 64, "--eval-batches must be at most 2147483647"),
        (["--grad-accum", "100000000000"], 64, "--grad-accum must be at most 2147483647, got 100000000000"),
        (["--eval-batches", "1000000000000"], 64, "--eval-batches must be at most 2147483647"),
        (["--steps", "99999999999999999999999"], 64, "--steps must be at most 2147483647, got 99999999999999999999999"),
        (["--threads", "9223372036854775807"], 64, "--threads must be at most 4096"),
        (["--batch-size", "2000000000"], 1, "the run needs about"),
        (["--grad-accum", "2000000000"], 1, "the run needs about"),
        (["--eval-batches", "2000000000"], 1, "the run needs about"),
    ] as [([String], Int32, String)])
    func hugeCountsAreRefusedBeforeAnythingIsComputed(flags: [String], status: Int32, expected: String) throws {
        let out = try Self.scratch("huge-flags") + "/out"
        let run = try CLI.run(["train", "--data", Fixture.shared.corpus, "--config", Fixture.shared.tinyConfig,
                               "--backend", "reference", "--out", out] + flags, virtualMemoryKiB: 4_000_000)
        Self.expectOneLine(run, status: status, expected)
        #expect(!FileManager.default.fileExists(atPath: out + "/model.safetensors"))
    }

    /// Item 3: the same bound for counts in a run config file.
    @Test func hugeCountsInARunConfigAreRefused() throws {
        let directory = try Self.scratch("huge-config")
        try #"{"training": {"evalBatches": 3000000000}}"#.write(toFile: directory + "/run.json", atomically: true,
                                                               encoding: .utf8)
        let run = try CLI.run(["train", "--data", Fixture.shared.corpus, "--config", directory + "/run.json",
                               "--out", directory + "/out"])
        Self.expectOneLine(run, status: 1, "training.evalBatches must be at most 2147483647, got 3000000000")
    }

    /// Item 4: truncating train.bin under a running trainer (it used to die of SIGBUS with nothing
    /// saved) stops it with one line naming the file, after a checkpoint `generate` can use.
    @Test func truncatingTheDataUnderATrainerSavesAndFails() throws {
        let directory = try Self.scratch("truncate")
        let data = directory + "/data", out = directory + "/out"
        let prepare = try CLI.run(["prepare", "--input", Fixture.shared.corpus, "--tokenizer", "char", "--out", data])
        #expect(prepare.status == 0, "\(prepare.stderr)")
        for name in ["stdout", "stderr"] { _ = FileManager.default.createFile(atPath: directory + "/" + name, contents: nil) }
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["train", "--data", data, "--config", Fixture.shared.tinyConfig, "--backend", "reference",
                             "--steps", "100000", "--batch-size", "2", "--eval-batches", "1", "--log-every", "1",
                             "--out", out]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stdout"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stderr"))
        try process.run()
        func read(_ name: String) -> String { (try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)) ?? "" }
        let deadline = Date().addingTimeInterval(120)
        while !read("stdout").contains("step 3/") && process.isRunning && Date() < deadline { usleep(20_000) }
        #expect(truncate(data + "/train.bin", 1000) == 0)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }  // fail, don't hang
        process.waitUntilExit()
        let errors = read("stderr")
        #expect(process.terminationReason == .exit && process.terminationStatus == 1, "\(errors)")
        #expect(errors.split(separator: "\n").count == 1 && errors.contains("train.bin: the file shrank while in use"),
                "\(errors)")
        #expect(read("stdout").contains("before the error below) saved to \(out)"), "\(read("stdout"))")
        let generate = try CLI.run(["generate", "--checkpoint", out, "--backend", "reference", "--max-tokens", "5"])
        #expect(generate.status == 0, "\(generate.stderr)")
    }

    /// Item 5: bench, profile and conformance estimate their memory before allocating it.
    @Test(arguments: [
        (["bench", "--config", "gpt2-124m", "--batch-size", "100000"], 1, "gpt bench: the benchmark needs about "),
        (["bench", "--op", "matmul", "--shape", "100000,100000,100000"], 1,
         "gpt bench: --op matmul --shape 100000,100000,100000 needs about "),
        (["bench", "--op", "attention", "--shape", "99999,99,999,99"], 1, "--op attention --shape 99999,99,999,99 needs about "),
        (["bench", "--op", "attention-backward", "--shape", "1,1,1,1", "--memory-limit", "63"], 1, "needs about 64 B but --memory-limit holds 63 B"),
        (["bench", "--op", "matmul", "--shape", "3000000000,1,1"], 64, "--shape values must be in 1...2147483647"),
        (["profile", "--config", "gpt2-124m", "--batch-size", "100000"], 1, "gpt profile: the profiled run needs about "),
        (["conformance", "--memory-limit", "1K"], 1, "gpt conformance: running the conformance cases needs about "),
    ] as [([String], Int32, String)])
    func benchProfileAndConformanceEstimateFirst(arguments: [String], status: Int32, expected: String) throws {
        let run = try CLI.run(arguments + ["--backend", "reference"], virtualMemoryKiB: 4_000_000)
        Self.expectOneLine(run, status: status, expected)
    }

    /// Item 6: stdin without a newline (`< /dev/zero`) used to grow one line until the kernel
    /// killed gpt at 21 GB; a line past the bound now ends the session with one line.
    @Test func interactiveInputWithoutANewlineIsBounded() throws {
        let run = try CLI.run(["generate", "--checkpoint", Fixture.shared.checkpoint, "--backend", "reference",
                               "--interactive"], virtualMemoryKiB: 4_000_000, standardInput: "/dev/zero")
        Self.expectOneLine(run, status: 1, "gpt generate: stdin: line 1 runs past 1048576 bytes without a newline")
    }

    /// Item 6: in a prompts file such a line is skipped with its number and the rest still run.
    @Test func anOverlongPromptLineIsSkippedWithItsNumber() throws {
        let directory = try Self.scratch("long-prompt")
        let prompts = directory + "/prompts.txt"
        try (String(repeating: "ROMEO ", count: 200_000) + "\nJULIET:\n").write(toFile: prompts, atomically: true, encoding: .utf8)
        let run = try CLI.run(["generate", "--checkpoint", Fixture.shared.checkpoint, "--backend", "reference",
                               "--max-tokens", "3", "--prompts-file", prompts, "--output", directory + "/out.txt"],
                              virtualMemoryKiB: 4_000_000)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("prompts.txt:1: skipped: longer than 1048576 bytes"), "\(run.stderr)")
        let output = try String(contentsOfFile: directory + "/out.txt", encoding: .utf8)
        #expect(output.hasPrefix("=== prompt 2 ===\nJULIET:") && !output.contains("=== prompt 1 ==="))
    }

    /// Item 11: an out-of-vocabulary id in train.bin is found when the data is opened, with the
    /// file and offset, before the first step (it used to surface at step 635 of 2000).
    @Test func anOutOfVocabularyIdInPreparedDataIsFoundAtOpen() throws {
        let directory = try Self.scratch("oov")
        let data = directory + "/data"
        #expect(try CLI.run(["prepare", "--input", Fixture.shared.corpus, "--tokenizer", "char", "--out", data]).status == 0)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: data + "/train.bin"))
        try handle.seek(toOffset: 4000)
        try handle.write(contentsOf: Data([0xE8, 0x03]))  // id 1000
        try handle.close()
        let run = try CLI.run(["train", "--data", data, "--config", Fixture.shared.tinyConfig, "--backend", "reference",
                               "--out", directory + "/out"])
        Self.expectOneLine(run, status: 1, "\(data)/train.bin: token at byte 4000 is 1000, outside the vocabulary 0..<")
        #expect(!run.stdout.contains("step 1/"))
    }
}
