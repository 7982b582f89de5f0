// Issue 12, items 13-19: input that was accepted but wrong, and messages that were unclear. Each
// test is one item's reproduction; the commands must now refuse with one line that names the file
// or flag and says what would be accepted (or, where the input was right, do the right thing).

import Foundation
import Testing

@Suite struct CLIConfigTests: CLISuite {
    /// The fixture's tiny ModelConfig with `old` replaced by `new`, as a file.
    static func modelConfig(replacing old: String, with new: String) throws -> String {
        let text = try String(contentsOfFile: Fixture.shared.tinyConfig, encoding: .utf8)
        #expect(text.contains(old))
        let path = try scratch("config") + "/model.json"
        try text.replacingOccurrences(of: old, with: new).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func train(_ config: String) throws -> Run {
        try CLI.run(["train", "--data", Fixture.shared.corpus, "--config", config, "--backend", "reference", "--steps", "1",
                     "--batch-size", "2", "--eval-batches", "1", "--out", try scratch("out") + "/run"])
    }

    /// Item 13: a bare ModelConfig refuses unknown keys as a run config does, and its vocabSize,
    /// when given, must be the data's (it was silently replaced); left out, it is the data's.
    @Test func aBareModelConfigIsReadStrictly() throws {
        let unknown = try Self.train(try Self.modelConfig(replacing: #""layers": 1"#, with: #""layres": 1"#))
        Self.expectOneLine(unknown, status: 1, "model.json: unknown key 'layres' (known: activation, bias, ")
        let missing = try Self.train(try Self.modelConfig(replacing: #""heads": 2, "#, with: ""))
        Self.expectOneLine(missing, status: 1, "model.json: missing key 'heads' (only vocabSize may be left out")
        let explicit = try Self.train(try Self.modelConfig(replacing: "{", with: #"{"vocabSize": 100, "#))
        Self.expectOneLine(explicit, status: 1, "the config's vocabSize 100 differs from the data's: ",
                           "has a char tokenizer of ", "leave it out to take the data's")
        let runConfig = try Self.scratch("run-config") + "/run.json"
        try #"{"model": {"preset": "char-baby", "vocabSize": 7, "layers": 1, "embeddingDim": 16, "heads": 2}}"#
            .write(toFile: runConfig, atomically: true, encoding: .utf8)
        Self.expectOneLine(try Self.train(runConfig), status: 1, "the config's vocabSize 7 differs from the data's")
        #expect(try Self.train(Fixture.shared.tinyConfig).status == 0)  // no vocabSize: the data's
    }

    /// A 3-step run of the tiny config on `data`, into a fresh directory.
    static func trainedCheckpoint(on data: String) throws -> String {
        let out = try scratch("fingerprint") + "/run"
        let run = try CLI.run(["train", "--data", data, "--config", Fixture.shared.tinyConfig, "--backend", "reference",
                               "--steps", "10", "--stop-after", "3", "--batch-size", "2", "--eval-batches", "1", "--out", out])
        #expect(run.status == 0, "\(run.stderr)")
        return out
    }

    /// Item 14: --resume on different data with the same characters is refused unless the user
    /// says so; the new checkpoint then records the new data.
    @Test func resumeRefusesDifferentDataUnlessAllowed() throws {
        let out = try Self.trainedCheckpoint(on: Fixture.shared.corpus)
        let other = try Self.scratch("other") + "/corpus.txt"
        let text = try String(contentsOfFile: Fixture.shared.corpus, encoding: .utf8)
        try String(text.split(separator: "\n", omittingEmptySubsequences: false).reversed().joined(separator: "\n"))
            .write(toFile: other, atomically: true, encoding: .utf8)
        let refused = try CLI.run(["train", "--resume", out, "--data", other, "--stop-after", "4"])
        Self.expectOneLine(refused, status: 1, "--data \(other) is not the data the checkpoint was trained on",
                           "pass --allow-different-data")
        let allowed = try CLI.run(["train", "--resume", out, "--data", other, "--stop-after", "4", "--allow-different-data"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/training_state.json")))
            as? [String: Any]
        #expect((state?["data"] as? [String: Any])?["path"] as? String == other)
        let usage = try CLI.run(["train", "--data", other, "--allow-different-data"])
        Self.expectOneLine(usage, status: 64, "--allow-different-data applies only with --resume")
    }

    /// Item 19: --resume takes the data the checkpoint records; without --resume, --data is still
    /// required; a checkpoint that records none (an earlier version's) asks for --data.
    @Test func resumeTakesTheRecordedData() throws {
        let out = try Self.trainedCheckpoint(on: Fixture.shared.corpus)
        let resumed = try CLI.run(["train", "--resume", out, "--stop-after", "4"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("data: \(Fixture.shared.corpus): "), "\(resumed.stdout)")
        Self.expectOneLine(try CLI.run(["train", "--steps", "1"]), status: 64, "missing required flag --data")
        let statePath = out + "/training_state.json"
        var state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: statePath))) as! [String: Any]
        state["data"] = nil
        try JSONSerialization.data(withJSONObject: state).write(to: URL(fileURLWithPath: statePath))
        Self.expectOneLine(try CLI.run(["train", "--resume", out, "--stop-after", "5"]), status: 1,
                           "\(out): the checkpoint does not record its data (an earlier version wrote it); pass --data")
    }

    /// Item 15: what was silently accepted: a floor above the peak learning rate, a device a CPU
    /// backend does not have, --prompt with another prompt mode, hexadecimal numbers.
    @Test(arguments: [
        (["train", "--data", "{corpus}", "--lr", "0.001", "--min-lr", "0.01"], 64,
         "gpt train: --min-lr must not be above --lr (the decay's floor), got 0.01 > 0.001 (see gpt train --help)"),
        (["train", "--data", "{corpus}", "--config", "{tiny}", "--backend", "reference", "--device", "3"], 1,
         "gpt train: reference: no device '3': the reference backend has one device, 0 (the CPU); give --device 0 or leave it out"),
        (["generate", "--checkpoint", "{checkpoint}", "--backend", "reference", "--device", "gpu"], 1,
         "gpt generate: reference: no device 'gpu'"),
        (["generate", "--checkpoint", "{checkpoint}", "--prompt", "RO", "--interactive"], 64,
         "gpt generate: give one of --prompt, --interactive and --prompts-file, not --prompt and --interactive"),
        (["generate", "--checkpoint", "{checkpoint}", "--prompt", "RO", "--prompts-file", "p.txt", "--output", "o.txt"], 64,
         "not --prompt and --prompts-file"),
        (["train", "--data", "{corpus}", "--lr", "0x1p3"], 64, "gpt train: --lr expects a number, got '0x1p3'"),
        (["generate", "--checkpoint", "{checkpoint}", "--temperature", "nan"], 64, "--temperature expects a number, got 'nan'"),
        (["prepare", "--input", "{corpus}", "--out", "x", "--val-fraction", "0x0.8p0"], 64, "--val-fraction expects a number"),
        (["train", "--data", "{corpus}", "--memory-limit", "0x10M"], 64, "--memory-limit expects a byte count"),
    ] as [([String], Int32, String)])
    func silentlyAcceptedInputIsRefused(arguments: [String], status: Int32, expected: String) throws {
        let run = try CLI.run(Fixture.shared.substitute(arguments))
        Self.expectOneLine(run, status: status, expected)
    }

    /// Item 15: a device on a CPU backend that names its one device is fine.
    @Test func theCPUDeviceIsAccepted() throws {
        for device in ["0", "cpu", "CPU"] {
            let run = try CLI.run(["generate", "--checkpoint", Fixture.shared.checkpoint, "--backend", "reference",
                                   "--device", device, "--max-tokens", "2"])
            #expect(run.status == 0, "\(device): \(run.stderr)")
        }
    }

    /// Item 16: file-system failures are one line saying why, never a raw CocoaError dump or a
    /// stale errno ("No such file or directory" for a FIFO, "Success" for /dev/zero).
    @Test func fileSystemFailuresSayWhy() throws {
        let directory = try Self.scratch("fs")
        let file = directory + "/a-file", fifo = directory + "/fifo"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(mkfifo(fifo, 0o644) == 0)
        let base = ["train", "--config", Fixture.shared.tinyConfig, "--backend", "reference", "--steps", "1"]
        let cases: [([String], Int32, String)] = [
            (base + ["--data", Fixture.shared.corpus, "--out", file + "/run"], 1,
             "\(file)/run: cannot create directory: \(file) exists and is not a directory"),
            (base + ["--data", Fixture.shared.corpus, "--out", "/dev/null/run"], 1, "/dev/null/run: cannot create directory: "),
            (base + ["--data", Fixture.shared.corpus, "--out", ""], 64, "--out expects a path, got an empty one"),
            (base + ["--data", fifo, "--out", directory + "/a"], 1, "\(fifo): is a pipe (FIFO), expected a regular file"),
            (base + ["--data", "/dev/zero", "--out", directory + "/b"], 1, "/dev/zero: is a character device, expected a regular file"),
            (["generate", "--checkpoint", Fixture.shared.checkpoint, "--prompts-file", "/dev/zero", "--output", directory + "/o"], 1,
             "/dev/zero: is a character device, expected a regular file"),
        ]
        for (arguments, status, expected) in cases {
            Self.expectOneLine(try CLI.run(arguments), status: status, expected)
            #expect(!FileManager.default.fileExists(atPath: directory + "/a") && !FileManager.default.fileExists(atPath: directory + "/b"))
        }
    }

    /// Item 16: decoding failures list what is accepted and name the key, also for a valid number
    /// that is not an integer (JSONDecoder calls that "not valid JSON").
    @Test func decodingFailuresNameTheKeyAndTheChoices() throws {
        let directory = try Self.scratch("decoding")
        let data = directory + "/data"
        #expect(try CLI.run(["prepare", "--input", Fixture.shared.corpus, "--tokenizer", "char", "--out", data]).status == 0)
        let meta = data + "/meta.json"
        try String(contentsOfFile: meta, encoding: .utf8).replacingOccurrences(of: "\"uint16\"", with: "\"float32\"")
            .write(toFile: meta, atomically: true, encoding: .utf8)
        let train = ["train", "--data", data, "--config", Fixture.shared.tinyConfig, "--backend", "reference",
                     "--out", directory + "/out"]
        Self.expectOneLine(try CLI.run(train), status: 1, "meta.json: key 'dtype': expects uint16 or uint32, got 'float32'")
        for (value, shown) in [("4.5", "4.5"), ("1e19", "1e+19")] {
            let checkpoint = directory + "/ck-\(shown)"
            try FileManager.default.copyItem(atPath: Fixture.shared.checkpoint, toPath: checkpoint)
            let config = checkpoint + "/config.json"
            try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "\"layers\" : 1", with: "\"layers\" : \(value)")
                .write(toFile: config, atomically: true, encoding: .utf8)
            Self.expectOneLine(try CLI.run(["generate", "--checkpoint", checkpoint]), status: 1,
                               "config.json: invalid checkpoint: key 'gpt.layers' holds \(shown), which is not an integer")
        }
        let model = try Self.modelConfig(replacing: #""norm": "layer""#, with: #""norm": "batch""#)
        Self.expectOneLine(try Self.train(model), status: 1, "model.json: norm: expects layer or rms, got 'batch'")
    }

    /// Item 17: an unknown backend is a usage error (64) on every command; range messages use one
    /// wording and print bounds as typed ("0", not "0.0").
    @Test(arguments: [
        (["train", "--data", "{corpus}", "--backend", "cuda"], "--backend expects one of auto, blas, opencl, reference, got 'cuda'"),
        (["generate", "--checkpoint", "{checkpoint}", "--backend", "cuda"], "--backend expects one of auto, blas, opencl, reference, got 'cuda'"),
        (["conformance", "--backend", "reference,cuda"], "--backend: unknown backend 'cuda'; known: auto, blas, opencl, reference"),
        (["prepare", "--input", "{corpus}", "--out", "x", "--val-fraction", "0"], "--val-fraction must be above 0, got 0"),
        (["prepare", "--input", "{corpus}", "--out", "x", "--val-fraction", "-1"], "--val-fraction must be above 0, got -1"),
        (["prepare", "--input", "{corpus}", "--out", "x", "--val-fraction", "1"], "--val-fraction must be below 1, got 1"),
        (["train", "--data", "{corpus}", "--lr", "-1"], "--lr must be at least 0, got -1"),
        (["train", "--data", "{corpus}", "--dropout", "1"], "--dropout must be below 1, got 1"),
        (["train", "--data", "{corpus}", "--beta2", "1.5"], "--beta2 must be below 1, got 1.5"),
        (["generate", "--checkpoint", "{checkpoint}", "--repetition-penalty", "0.5"], "--repetition-penalty must be at least 1, got 0.5"),
    ])
    func unknownBackendsAndRangesAreUsageErrorsInOneWording(arguments: [String], expected: String) throws {
        let run = try CLI.run(Fixture.shared.substitute(arguments))
        Self.expectOneLine(run, status: 64, "gpt \(arguments[0]): \(expected) (see gpt \(arguments[0]) --help)")
    }

    /// Item 18: gpt plot reads a CRLF log like its LF twin, and refuses a log with no finite loss
    /// instead of drawing an empty chart on a made-up axis.
    @Test func plotReadsCRLFAndRefusesAnAllNaNLog() throws {
        let directory = try Self.scratch("plot")
        let rows = ["step,train_loss,val_loss,lr,grad_norm,tok_per_s,elapsed_s", "1,4.2,,0.001,1.5,100,0.1",
                    "2,4.0,4.1,0.001,1.4,100,0.2"]
        let crlf = directory + "/crlf.csv", nan = directory + "/nan.csv"
        try (rows.joined(separator: "\r\n") + "\r\n").write(toFile: crlf, atomically: true, encoding: .utf8)
        let plotted = try CLI.run(["plot", crlf, "--out", directory + "/crlf.svg"])
        #expect(plotted.status == 0, "\(plotted.stderr)")
        #expect(plotted.stdout.contains("2 steps, 1 validation points"), "\(plotted.stdout)")
        try ([rows[0], "1,nan,,0.001,1.5,100,0.1", "2,nan,nan,0.001,1.4,100,0.2"].joined(separator: "\n") + "\n")
            .write(toFile: nan, atomically: true, encoding: .utf8)
        Self.expectOneLine(try CLI.run(["plot", nan, "--out", directory + "/nan.svg"]), status: 1,
                           "gpt plot: \(nan): no loss to plot: every loss in its 2 rows is NaN or infinite")
        #expect(!FileManager.default.fileExists(atPath: directory + "/nan.svg"))
    }
}
