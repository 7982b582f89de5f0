// Issue 12, items 7-10, through the binary: a trainer killed at every rename of a checkpoint save
// leaves a checkpoint `generate` loads and `--resume` continues (finishing or undoing the save,
// and saying so); a log inside --out and a user's files there survive; a second trainer on the
// same --out is refused at start, and the lock goes away with a killed holder.

import Foundation
import Testing

@Suite struct CLICheckpointTests: CLISuite {
    /// A run of 100 steps on the tiny config with no evaluation before step 100, so the session
    /// that stops after step N makes exactly one save (8 renames: the commit, 6 files, the manifest).
    static func train(_ out: String, stopAfter: Int, resume: Bool = false, extra: [String] = []) -> [String] {
        let fixture = Fixture.shared
        let common = ["train", "--data", fixture.corpus, "--stop-after", "\(stopAfter)", "--out", out]
        guard !resume else { return common + ["--resume", out] + extra }
        return common + ["--config", fixture.tinyConfig, "--backend", "reference", "--steps", "100", "--batch-size", "2",
                         "--eval-interval", "100", "--eval-batches", "1"] + extra
    }

    static func step(_ out: String) throws -> Int? {
        let data = try Data(contentsOf: URL(fileURLWithPath: out + "/training_state.json"))
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["step"] as? Int
    }

    static let savedStep2: String = {
        let out = try! scratch("kill-base") + "/run"
        let run = try! CLI.run(train(out, stopAfter: 2))
        precondition(run.status == 0, run.stderr)
        return out
    }()

    /// Item 7: kill at each of the 8 renames of the save that replaces the step-2 checkpoint with
    /// step 3's. Afterwards generate works, and --resume finishes (or undoes) the save and goes on.
    @Test(arguments: 1...8)
    func aKillAtAnyRenameOfASaveLeavesAWorkingCheckpoint(rename: Int) throws {
        let out = try Self.scratch("kill-\(rename)") + "/run"
        try FileManager.default.copyItem(atPath: Self.savedStep2, toPath: out)
        let killed = try CLI.run(Self.train(out, stopAfter: 3, resume: true),
                                 environment: ["GPT_TEST_KILL_AT_RENAME": "\(rename)"])
        #expect(killed.status == 9, "rename \(rename) did not kill: \(killed.stderr)")  // SIGKILL
        let generate = try CLI.run(["generate", "--checkpoint", out, "--backend", "reference", "--max-tokens", "5"])
        #expect(generate.status == 0, "\(generate.stderr)")
        let resumed = try CLI.run(Self.train(out, stopAfter: 4, resume: true))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains(rename == 1 ? "removed an unfinished checkpoint save from \(out)"
                                        : "completed the checkpoint save that was interrupted in \(out)"), "\(resumed.stdout)")
        #expect(resumed.stdout.contains("resuming after step \(rename == 1 ? 2 : 3)"), "\(resumed.stdout)")
        #expect(try Self.step(out) == 4)
        let log = try String(contentsOfFile: out + "/log.csv", encoding: .utf8).split(separator: "\n")
        #expect(log.dropFirst().map { $0.split(separator: ",")[0] } == ["1", "2", "3", "4"])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix(".gpt-s") || $0.hasPrefix(".gpt-p") }
        #expect(leftovers.isEmpty)
    }

    /// Item 7: a kill during the first save of a fresh run: before its commit there is no
    /// checkpoint (generate says so in one line) and a new run starts over; after it, both work.
    @Test(arguments: [1, 2, 8])
    func aKillDuringTheFirstSave(rename: Int) throws {
        let out = try Self.scratch("kill-fresh-\(rename)") + "/run"
        let killed = try CLI.run(Self.train(out, stopAfter: 1), environment: ["GPT_TEST_KILL_AT_RENAME": "\(rename)"])
        #expect(killed.status == 9, "\(killed.stderr)")
        let generate = try CLI.run(["generate", "--checkpoint", out, "--backend", "reference", "--max-tokens", "5"])
        #expect(generate.status == (rename == 1 ? 1 : 0), "\(generate.stderr)")
        if rename == 1 { #expect(generate.stderrLines.count == 1) }
        let again = try CLI.run(rename == 1 ? Self.train(out, stopAfter: 2) : Self.train(out, stopAfter: 2, resume: true))
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Self.step(out) == 2)
    }

    /// Item 8: a log inside --out trains and saves, and survives later saves and resumes; a log in
    /// the place of a checkpoint file is refused before training.
    @Test func aLogInsideTheOutputDirectoryIsKept() throws {
        let out = try Self.scratch("log-inside") + "/o5"
        let first = try CLI.run(Self.train(out, stopAfter: 2, extra: ["--log", out + "/train.csv"]))
        #expect(first.status == 0, "\(first.stderr)")
        let resumed = try CLI.run(Self.train(out, stopAfter: 3, resume: true, extra: ["--log", out + "/train.csv"]))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let rows = try String(contentsOfFile: out + "/train.csv", encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 4)  // header and steps 1-3
        let refused = try CLI.run(Self.train(out, stopAfter: 4, resume: true, extra: ["--log", out + "/config.json"]))
        #expect(refused.status == 1 && refused.stderrLines.count == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("--log \(out)/config.json: the log cannot take the place of a file the checkpoint writes"))
        #expect(try Self.step(out) == 3)
    }

    /// Item 9: a user's notes and samples folder in a checkpoint directory survive the next saves.
    @Test func aUsersFilesInTheCheckpointSurvive() throws {
        let out = try Self.scratch("user-files") + "/run"
        try FileManager.default.copyItem(atPath: Self.savedStep2, toPath: out)
        try "my notes".write(toFile: out + "/notes.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: out + "/samples", withIntermediateDirectories: true)
        try "kept".write(toFile: out + "/samples/a.txt", atomically: true, encoding: .utf8)
        let run = try CLI.run(Self.train(out, stopAfter: 3, resume: true))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try String(contentsOfFile: out + "/notes.txt", encoding: .utf8) == "my notes")
        #expect(try String(contentsOfFile: out + "/samples/a.txt", encoding: .utf8) == "kept")
    }

    /// Item 10: a second trainer on the same --out is refused at start, naming the first; once
    /// the first is killed its lock is gone and the run resumes.
    @Test func aSecondTrainerIsRefusedAndAKilledOneReleasesTheLock() throws {
        let directory = try Self.scratch("lock")
        let out = directory + "/run"
        try FileManager.default.copyItem(atPath: Self.savedStep2, toPath: out)
        _ = FileManager.default.createFile(atPath: directory + "/stdout", contents: nil)
        let first = Process()
        first.executableURL = CLI.executable
        first.arguments = Self.train(out, stopAfter: 100_000, resume: true, extra: ["--steps", "1000000", "--log-every", "1"])
        first.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stdout"))
        first.standardError = FileHandle.nullDevice
        try first.run()
        let deadline = Date().addingTimeInterval(120)
        func stdout() -> String { (try? String(contentsOfFile: directory + "/stdout", encoding: .utf8)) ?? "" }
        while !stdout().contains("step 4/") && first.isRunning && Date() < deadline { usleep(20_000) }
        let second = try CLI.run(Self.train(out, stopAfter: 5, resume: true))
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(second.status == 1 && second.stderrLines.count == 1, "\(second.stderr)")
        #expect(second.stderr.contains("--out \(out): another gpt train (pid \(first.processIdentifier)) is writing"),
                "\(second.stderr)")
        let third = try CLI.run(Self.train(out, stopAfter: 3, resume: true, extra: ["--steps", "1000000"]))
        #expect(third.status == 0, "\(third.stderr)")
    }
}
