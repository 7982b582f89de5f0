// Runs the built `gpt` binary as a subprocess and builds the small files the CLI tests share: a
// generated corpus, a tiny model config, bad inputs, and one checkpoint trained end to end.

import Foundation

struct Run {
    let status: Int32
    let stdout: String
    let stderr: String

    /// stderr as lines, without the trailing empty one.
    var stderrLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: true) }
}

enum CLI {
    /// The `gpt` executable SwiftPM built next to this test runner.
    static let executable: URL = {
        let runner = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return runner.deletingLastPathComponent().appendingPathComponent("gpt")
    }()

    /// Runs `gpt arguments...` (or another `executable`, such as mpirun) in `directory`, capturing
    /// both streams through files (no pipe buffers to fill up). Without `directory` it runs in a
    /// fresh directory of its own, removed afterwards: tests run in parallel, and two runs that
    /// fell back on a default path such as `--out checkpoint` in one shared directory would see
    /// each other (the second is refused by the first's lock). `environment` entries are added to
    /// (or replace) the test's own. With `virtualMemoryKiB` it runs under `ulimit -v`, so an
    /// allocation nothing checked fails at once instead of growing into swap; with `fileSizeKiB`
    /// under `ulimit -f`. `standardInput` is a file to read stdin from; past `timeout` seconds the
    /// process is killed (status 9).
    static func run(_ arguments: [String], in directory: String? = nil,
                    environment: [String: String] = [:], virtualMemoryKiB: Int? = nil, fileSizeKiB: Int? = nil,
                    standardInput: String? = nil, timeout: Double? = nil,
                    executable: URL = CLI.executable) throws -> Run {
        let scratch = NSTemporaryDirectory() + "gpt-run-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let workingDirectory = directory ?? scratch + "/cwd"
        if directory == nil { try FileManager.default.createDirectory(atPath: workingDirectory, withIntermediateDirectories: false) }
        _ = FileManager.default.createFile(atPath: scratch + "/out", contents: nil)
        _ = FileManager.default.createFile(atPath: scratch + "/err", contents: nil)
        let process = Process()
        let limits = [virtualMemoryKiB.map { "ulimit -v \($0)" }, fileSizeKiB.map { "ulimit -f \($0)" }].compactMap { $0 }
        if !limits.isEmpty {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", (limits + ["exec \"$0\" \"$@\""]).joined(separator: " && "), executable.path]
                + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory)
        if let standardInput { process.standardInput = FileHandle(forReadingAtPath: standardInput) }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch + "/out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch + "/err"))
        try process.run()
        if let timeout {  // a hang fails the test instead of the suite
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        return Run(status: process.terminationStatus,
                   stdout: try String(contentsOfFile: scratch + "/out", encoding: .utf8),
                   stderr: try String(contentsOfFile: scratch + "/err", encoding: .utf8))
    }
}

/// Files shared by the CLI tests, created once (Swift initialises a static let exactly once, even
/// when tests run in parallel).
struct Fixture {
    static let shared: Fixture = {
        let fixture = try! Fixture()
        atexit { try? FileManager.default.removeItem(atPath: Fixture.shared.directory) }
        return fixture
    }()

    let directory: String
    let corpus: String, emptyFile: String, shortFile: String
    let tinyConfig: String, malformedConfig: String, wrongTypeConfig: String
    let checkpoint: String
    let trainRun: Run

    /// A few KB of play-like text from a fixed generator: varied enough to learn something.
    static func corpusText() -> String {
        let names = ["ROMEO", "JULIET", "NURSE"], words = ["love", "night", "the", "sweet", "is", "my", "and", "light"]
        var state: UInt64 = 42, text = ""
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        while text.utf8.count < 6000 {
            text += names[next(3)] + ":\n"
            text += (0..<(4 + next(6))).map { _ in words[next(words.count)] }.joined(separator: " ") + ".\n\n"
        }
        return text
    }

    init() throws {
        directory = NSTemporaryDirectory() + "gpt-cli-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        corpus = directory + "/corpus.txt"
        try Self.corpusText().write(toFile: corpus, atomically: true, encoding: .utf8)
        emptyFile = directory + "/empty.txt"
        try "".write(toFile: emptyFile, atomically: true, encoding: .utf8)
        shortFile = directory + "/short.txt"
        try "ROMEO:\nlove is light.\n".write(toFile: shortFile, atomically: true, encoding: .utf8)
        tinyConfig = directory + "/tiny.json"
        try """
            {"contextLength": 16, "layers": 1, "heads": 2, "embeddingDim": 16, "ffnDim": 32,
             "norm": "layer", "activation": "gelu", "positions": "learned", "tiedEmbeddings": true,
             "bias": true, "dropout": 0, "normEpsilon": 1e-5, "ropeTheta": 10000}
            """.write(toFile: tinyConfig, atomically: true, encoding: .utf8)
        malformedConfig = directory + "/malformed.json"
        try #"{"vocabSize": 1, "contextLength": "#.write(toFile: malformedConfig, atomically: true, encoding: .utf8)
        wrongTypeConfig = directory + "/wrong-type.json"
        try String(contentsOfFile: tinyConfig, encoding: .utf8).replacingOccurrences(of: #""layers": 1"#, with: #""layers": "one""#)
            .write(toFile: wrongTypeConfig, atomically: true, encoding: .utf8)
        checkpoint = directory + "/checkpoint"
        trainRun = try CLI.run(["train", "--data", corpus, "--config", tinyConfig, "--backend", "reference",
                                "--steps", "20", "--batch-size", "4", "--lr", "1e-2", "--warmup", "2",
                                "--eval-every", "10", "--eval-batches", "2", "--log-every", "5", "--out", checkpoint])
    }

    /// `arguments` with placeholders such as "{corpus}" replaced by this fixture's paths.
    func substitute(_ arguments: [String]) -> [String] {
        let paths = ["{corpus}": corpus, "{empty}": emptyFile, "{short}": shortFile, "{tiny}": tinyConfig,
                     "{malformed}": malformedConfig, "{wrong-type}": wrongTypeConfig, "{checkpoint}": checkpoint,
                     "{missing}": directory + "/no-such-file.txt"]
        return arguments.map { paths[$0] ?? $0 }
    }
}
