// Issue 12, beyond its numbered items: what an adversarial pass over every command and every file
// the project reads found after the items were fixed, one test per finding: a crash (BPE's
// vocabulary allocation, SIGXFSZ), hangs (a FIFO as a token file or an input), silent data loss (a
// log or prompts output on a full disk, work lost to an output path found bad at the end, a
// device replaced by an output file), a lost run (SIGTERM), and inputs accepted but wrong.

import Foundation
import Testing

@Suite struct CLIAdversarialTests: CLISuite {
    static let tiny = ["--config", Fixture.shared.tinyConfig, "--backend", "reference", "--batch-size", "2", "--eval-batches", "1"]

    /// A vocabulary of 2^31 asked of BPE allocated a 17 GB table up front; the corpus gives far
    /// fewer merges, and prepare says so.
    @Test func aHugeBPEVocabularyIsNotAllocatedUpFront() throws {
        let out = try Self.scratch("bpe") + "/data"
        let run = try CLI.run(["prepare", "--input", Fixture.shared.corpus, "--tokenizer", "bpe", "--vocab-size", "2147483647",
                               "--out", out], virtualMemoryKiB: 4_000_000)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("fewer than the 2147483647 asked for"), "\(run.stdout)")
    }

    /// A FIFO as an input or a token file blocked open(2) for ever, or was read as empty.
    @Test func aFIFOIsRefusedNotWaitedOn() throws {
        let directory = try Self.scratch("fifo")
        let data = directory + "/data", fifo = directory + "/input"
        #expect(mkfifo(fifo, 0o644) == 0)
        Self.expectOneLine(try CLI.run(["prepare", "--input", fifo, "--tokenizer", "char", "--out", directory + "/p"], timeout: 60),
                           status: 1, "\(fifo): is a pipe (FIFO), expected a regular file")
        #expect(try CLI.run(["prepare", "--input", Fixture.shared.corpus, "--tokenizer", "char", "--out", data]).status == 0)
        try FileManager.default.removeItem(atPath: data + "/val.bin")
        #expect(mkfifo(data + "/val.bin", 0o644) == 0)
        Self.expectOneLine(try CLI.run(["train", "--data", data, "--out", directory + "/o"] + Self.tiny, timeout: 60),
                           status: 1, "val.bin: is a pipe (FIFO), expected a regular file")
    }

    /// Past `ulimit -f` SIGXFSZ killed gpt with nothing said; now the write fails and says so. And
    /// the preparation it interrupted (no meta.json) used to block every later one on that --out.
    @Test func aFileSizeLimitIsAnErrorNotASignal() throws {
        let out = try Self.scratch("xfsz") + "/data"
        let prepare = ["prepare", "--input", Fixture.shared.corpus, "--tokenizer", "char", "--out", out]
        Self.expectOneLine(try CLI.run(prepare, fileSizeKiB: 4), status: 1, "train.bin: cannot write: File too large")
        #expect(!FileManager.default.fileExists(atPath: out + "/meta.json"))
        let again = try CLI.run(prepare)
        #expect(again.status == 0, "\(again.stderr)")
    }

    /// With far more threads than cores, OpenBLAS's spinning workers exhausted a 4 GB address
    /// space and the process never exited; OpenBLAS now gets at most one thread per core.
    @Test func manyThreadsUnderAnAddressSpaceLimitStillExit() throws {
        let run = try CLI.run(["bench", "--backend", "blas", "--threads", "64", "--op", "matmul", "--shape", "8,8,8",
                               "--repeat", "1"], virtualMemoryKiB: 4_000_000, timeout: 60)
        guard !run.stderr.contains("unavailable") else { return }  // no OpenBLAS here: nothing to check
        #expect(run.status == 0, "\(run.stderr)")
    }

    /// A log that cannot be written (a full disk) stopped nothing: the run went on with no log.
    /// Now its header's write fails the run before the first step (TrainingLoopTests: a write that
    /// fails mid-run stops it after saving).
    @Test func aLogThatCannotBeWrittenStopsTheRun() throws {
        let out = try Self.scratch("full-log") + "/run"
        let run = try CLI.run(["train", "--data", Fixture.shared.corpus, "--steps", "5", "--log", "/dev/full", "--out", out]
                              + Self.tiny)
        Self.expectOneLine(run, status: 1, "/dev/full: cannot write the log: No space left on device")
        #expect(!run.stdout.contains("step 1/"))
    }

    /// --output for a prompts file: checked before any completion is made, never the prompts file
    /// itself, and a pipe is written in place (renaming over it would replace it: as root, a run
    /// with --output /dev/full replaced the device with a file).
    @Test func promptsOutputIsCheckedFirstAndNeverReplacesWhatItWritesTo() throws {
        let directory = try Self.scratch("prompts-output")
        let prompts = directory + "/prompts.txt"
        try "ROMEO:\nJULIET:\n".write(toFile: prompts, atomically: true, encoding: .utf8)
        let base = ["generate", "--checkpoint", Fixture.shared.checkpoint, "--backend", "reference", "--max-tokens", "2",
                    "--prompts-file", prompts]
        let folder = try CLI.run(base + ["--output", directory])
        Self.expectOneLine(folder, status: 1, "--output \(directory): is a directory, expected a file")
        Self.expectOneLine(try CLI.run(base + ["--output", prompts]), status: 1, "is the --prompts-file; choose another file")
        #expect(try String(contentsOfFile: prompts, encoding: .utf8) == "ROMEO:\nJULIET:\n")
        let fifo = directory + "/pipe"
        #expect(mkfifo(fifo, 0o644) == 0)
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/sh")
        reader.arguments = ["-c", "cat \"$0\" > \"$0.txt\"", fifo]
        try reader.run()
        let piped = try CLI.run(base + ["--output", fifo], timeout: 120)
        reader.waitUntilExit()
        #expect(piped.status == 0, "\(piped.stderr)")
        var info = stat()
        #expect(lstat(fifo, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO)
        #expect(try String(contentsOfFile: fifo + ".txt", encoding: .utf8).contains("=== prompt 2 ===\nJULIET:"))
    }

    /// SIGTERM (kill, docker stop) killed a trainer with its progress since the last checkpoint;
    /// now it is Ctrl-C: the step finishes, a resumable checkpoint is saved, exit 0.
    @Test func sigtermSavesLikeCtrlC() throws {
        let directory = try Self.scratch("sigterm")
        let out = directory + "/run"
        _ = FileManager.default.createFile(atPath: directory + "/stdout", contents: nil)
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["train", "--data", Fixture.shared.corpus, "--steps", "1000000", "--log-every", "1", "--out", out]
            + Self.tiny
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stdout"))
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        func stdout() -> String { (try? String(contentsOfFile: directory + "/stdout", encoding: .utf8)) ?? "" }
        while !stdout().contains("step 3/") && process.isRunning && Date() < deadline { usleep(20_000) }
        kill(process.processIdentifier, SIGTERM)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        #expect(stdout().contains("interrupted) saved to \(out)"), "\(stdout())")
    }

    /// Flags and files accepted but wrong, and messages that did not say which flag or file.
    @Test(arguments: [
        (["train", "--data", "{corpus}", "--memory-limit", "0.5"], 64, "--memory-limit expects a byte count such as 512M or 8G, got '0.5'"),
        (["train", "--resume", "{corpus}"], 1, "--resume {corpus}: not a directory"),
        (["train", "--resume", "{missing}"], 1, "--resume {missing}: no such checkpoint directory"),
        (["generate", "--checkpoint", "{checkpoint}", "--top-p", "0"], 64, "top-p must be in (0, 1] (1 keeps every token), got 0 (see"),
    ] as [([String], Int32, String)])
    func acceptedButWrong(arguments: [String], status: Int32, expected: String) throws {
        let fixture = Fixture.shared
        let run = try CLI.run(fixture.substitute(arguments))
        let message = expected.replacingOccurrences(of: "{corpus}", with: fixture.corpus)
            .replacingOccurrences(of: "{missing}", with: fixture.directory + "/no-such-file.txt")
        Self.expectOneLine(run, status: status, message)
    }

    /// The interactive :max-tokens is held to the memory estimate the flag is held to.
    @Test func interactiveMaxTokensIsEstimated() throws {
        let input = ":max-tokens 2147483647\n:max-tokens 3\n:temperature 0\nROMEO:\n"
        let run = try CLIGenerateTests.run(["generate", "--checkpoint", Fixture.shared.checkpoint, "--backend", "reference",
                                            "--interactive", "--memory-limit", "64M"], input: input)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains(":max-tokens: generating needs about ") && run.stderr.contains("use a smaller :max-tokens"),
                "\(run.stderr)")
        #expect(run.stderr.contains("max-tokens = 3"))
    }

    /// gpt plot reads a log an editor saved with a byte-order mark.
    @Test func plotReadsALogWithAByteOrderMark() throws {
        let directory = try Self.scratch("bom")
        let log = directory + "/log.csv"
        try ("\u{FEFF}step,train_loss,val_loss,lr,grad_norm,tok_per_s,elapsed_s\n1,4.2,,0.001,1.5,100,0.1\n")
            .write(toFile: log, atomically: true, encoding: .utf8)
        let run = try CLI.run(["plot", log])
        #expect(run.status == 0, "\(run.stderr)")
    }
}
