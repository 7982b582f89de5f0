// `gpt train` as a tool: exact resume, the CSV log and its SVG plot, samples and the best
// checkpoint, run config files and their errors, Ctrl-C, and the memory refusal.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

@Suite struct CLITrainingTests: CLISuite {
    /// A fresh directory for one test's runs.
    /// Every training-setting flag of the small runs here (dropout and accumulation on, so their
    /// random streams are part of what resume must restore).
    static func trainArguments(out: String, steps: Int = 20) -> [String] {
        let fixture = Fixture.shared
        return ["train", "--data", fixture.corpus, "--config", fixture.tinyConfig, "--backend", "reference",
                "--steps", "\(steps)", "--batch-size", "4", "--grad-accum", "2", "--dropout", "0.1", "--lr", "1e-2",
                "--warmup", "2", "--eval-interval", "5", "--eval-batches", "2", "--log-every", "5", "--out", out]
    }

    /// The CSV log without its timing columns (tok/s and elapsed differ between runs).
    static func lossColumns(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).prefix(5).joined(separator: ",") }
    }

    @Test func resumedRunIsBitIdenticalToAnUninterruptedOne() throws {
        let directory = try Self.scratch("resume")
        let straight = directory + "/straight", split = directory + "/split"
        let first = try CLI.run(Self.trainArguments(out: straight))
        #expect(first.status == 0, "\(first.stderr)")
        let half = try CLI.run(Self.trainArguments(out: split) + ["--stop-after", "10"])
        #expect(half.status == 0, "\(half.stderr)")
        #expect(half.stdout.contains("checkpoint (step 10, --stop-after) saved to \(split)"))
        #expect(try Self.lossColumns(split + "/log.csv").count == 11)  // header + 10 steps
        let rest = try CLI.run(["train", "--data", Fixture.shared.corpus, "--resume", split, "--log-every", "5"])
        #expect(rest.status == 0, "\(rest.stderr)")
        #expect(rest.stdout.contains("resuming after step 10"))
        #expect(!rest.stdout.contains("step 5/20") && rest.stdout.contains("step 15/20"))

        let expected = try Self.lossColumns(straight + "/log.csv"), resumed = try Self.lossColumns(split + "/log.csv")
        #expect(expected.count == 21)
        #expect(resumed == expected)
        let weights = { (path: String) in try Data(contentsOf: URL(fileURLWithPath: path + "/model.safetensors")) }
        #expect(try weights(split) == weights(straight))
    }

    @Test func resumeRefusesChangedSettingsAndFinishedRuns() throws {
        let directory = try Self.scratch("resume-errors")
        let out = directory + "/run"
        #expect(try CLI.run(Self.trainArguments(out: out, steps: 3)).status == 0)
        let changed = try CLI.run(["train", "--data", Fixture.shared.corpus, "--resume", out, "--lr", "1"])
        #expect(changed.status == 64)
        #expect(changed.stderr.contains("--lr cannot change on --resume; only --steps, --backend and --device may"), "\(changed.stderr)")
        let finished = try CLI.run(["train", "--data", Fixture.shared.corpus, "--resume", out])
        #expect(finished.status == 1 && finished.stderrLines.count == 1)
        #expect(finished.stderr.contains("already finished step 3 of 3"), "\(finished.stderr)")
        let longer = try CLI.run(["train", "--data", Fixture.shared.corpus, "--resume", out, "--steps", "5"])
        #expect(longer.status == 0, "\(longer.stderr)")
        #expect(try Self.lossColumns(out + "/log.csv").count == 6)
    }

    @Test func trainingWritesALogPlotSamplesAndTheBestCheckpoint() throws {
        let directory = try Self.scratch("log")
        let out = directory + "/run"
        let run = try CLI.run(Self.trainArguments(out: out) + ["--sample-interval", "10", "--sample-tokens", "12",
                                                               "--sample-prompt", "ROMEO:", "--checkpoint-interval", "5"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("memory estimate: ") && run.stdout.contains("AdamW moments"))
        #expect(run.stdout.contains("gradientAccumulation 2") && run.stdout.contains("evalInterval 5"))
        for step in [5, 10, 15] { #expect(run.stdout.contains("checkpoint (step \(step), every 5 steps)")) }

        let lines = try String(contentsOfFile: out + "/log.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "step,train_loss,val_loss,lr,grad_norm,tok_per_s,elapsed_s")
        let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.map { Int($0[0]) } == (1...20).map { $0 })
        #expect(rows.filter { !$0[2].isEmpty }.map { Int($0[0])! } == [5, 10, 15, 20])
        #expect(rows.allSatisfy { $0.count == 7 && Float($0[1]) != nil && Float($0[3])! > 0 && Double($0[6])! > 0 })

        let plot = try CLI.run(["plot", out + "/log.csv", "--out", directory + "/loss.svg"])
        #expect(plot.status == 0, "\(plot.stderr)")
        let svg = try Data(contentsOf: URL(fileURLWithPath: directory + "/loss.svg"))
        let parser = XMLParser(data: svg)
        #expect(parser.parse(), "the SVG is not well-formed XML: \(String(describing: parser.parserError))")
        #expect(String(decoding: svg, as: UTF8.self).contains("<svg"))

        let samples = try String(contentsOfFile: out + "/samples.txt", encoding: .utf8)
        #expect(samples.components(separatedBy: "=== step ").count == 3)  // steps 10 and 20
        #expect(samples.contains("=== step 10 ===\nROMEO:") && samples.contains("=== step 20 ===\nROMEO:"))
        #expect(run.stdout.contains("sample at step 10:\nROMEO:"))

        let files = Set(try FileManager.default.contentsOfDirectory(atPath: out))
        #expect(files.isSuperset(of: ["config.json", "model.safetensors", "tokenizer.json", "run.json",
                                      "optimizer.safetensors", "training_state.json", "log.csv", "samples.txt", "best"]))
        let best = Set(try FileManager.default.contentsOfDirectory(atPath: out + "/best"))
        #expect(best == [".gpt-manifest.json", "config.json", "model.safetensors", "tokenizer.json", "run.json"])
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/training_state.json")))
            as! [String: Any]
        let bestLoss = (state["bestValidationLoss"] as! NSNumber).floatValue
        let validation = rows.compactMap { Float($0[2]) }
        #expect(bestLoss == validation.min())
        #expect(state["step"] as? Int == 20 && state["batchesConsumed"] as? Int == 40)
    }

    @Test func runConfigFileSetsTrainingAndFlagsOverrideIt() throws {
        let directory = try Self.scratch("config")
        let config = directory + "/run.json"
        try """
            {"model": {"preset": "char-baby", "contextLength": 16, "layers": 1, "embeddingDim": 16, "heads": 2, "ffnDim": 32},
             "training": {"maxSteps": 3, "batchSize": 2, "evalInterval": 2, "evalBatches": 1, "learningRate": 0.005,
                          "backend": "reference"}}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let out = directory + "/run"
        let run = try CLI.run(["train", "--data", Fixture.shared.corpus, "--config", config, "--steps", "4", "--out", out])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("backend: reference"))
        #expect(try Self.lossColumns(out + "/log.csv").count == 5)  // --steps 4 beat maxSteps 3
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/run.json")))
            as! [String: [String: Any]]
        #expect(saved["training"]?["maxSteps"] as? Int == 4)
        #expect(saved["training"]?["batchSize"] as? Int == 2)  // from the file: no flag given
        #expect((saved["training"]?["learningRate"] as? NSNumber)?.floatValue == 0.005)
        #expect(saved["model"]?["layers"] as? Int == 1)
    }

    @Test(arguments: [
        (#"{"training": {"lerningRate": 0.1}}"#, "unknown key 'training.lerningRate'"),
        (#"{"training": {"batchSize": "big"}}"#, "training.batchSize must be an integer"),
        (#"{"model": {"layers": "one"}}"#, "model.layers must be an integer"),
        (#"{"training": {"maxSteps": 0}}"#, "training.maxSteps must be at least 1"),
    ])
    func runConfigErrorsAreOneLine(contents: String, expected: String) throws {
        let directory = try Self.scratch("config-error")
        let config = directory + "/bad.json"
        try contents.write(toFile: config, atomically: true, encoding: .utf8)
        let run = try CLI.run(["train", "--data", Fixture.shared.corpus, "--config", config, "--out", directory + "/out"])
        #expect(run.status == 1)
        #expect(run.stderrLines.count == 1, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("gpt train: ") && run.stderr.contains("bad.json") && run.stderr.contains(expected),
                "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/out"))
    }

    @Test func memoryEstimateAboveTheLimitIsRefusedBeforeTraining() throws {
        let directory = try Self.scratch("memory")
        let out = directory + "/run"
        let refused = try CLI.run(Self.trainArguments(out: out) + ["--memory-limit", "64K"])
        #expect(refused.status == 1)
        #expect(refused.stderrLines.count == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("the run needs about") && refused.stderr.contains("--memory-limit holds 64.0 KiB"),
                "\(refused.stderr)")
        #expect(!refused.stdout.contains("step 1/"))
        #expect(!FileManager.default.fileExists(atPath: out))
        let allowed = try CLI.run(Self.trainArguments(out: out, steps: 1) + ["--memory-limit", "64M"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
    }

    @Test func ctrlCFinishesTheStepSavesAndExitsZero() throws {
        let directory = try Self.scratch("sigint")
        let out = directory + "/run"
        _ = FileManager.default.createFile(atPath: directory + "/stdout", contents: nil)
        _ = FileManager.default.createFile(atPath: directory + "/stderr", contents: nil)
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = Self.trainArguments(out: out, steps: 1_000_000).map { $0 == "5" ? "1" : $0 }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stdout"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stderr"))
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        func stdout() -> String { (try? String(contentsOfFile: directory + "/stdout", encoding: .utf8)) ?? "" }
        while !stdout().contains("step 3/") && Date() < deadline && process.isRunning { usleep(20_000) }
        process.interrupt()  // SIGINT
        let exitDeadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < exitDeadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }  // fail, don't hang
        process.waitUntilExit()
        let text = stdout(), errors = (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? ""
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(errors)")
        #expect(errors.contains("interrupted: finishing this step"))
        #expect(text.contains("interrupted) saved to \(out)") && text.contains("--resume \(out)"), "\(text)")
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/training_state.json")))
            as! [String: Any]
        let step = try #require(state["step"] as? Int)
        #expect(step >= 3)
        #expect(try Self.lossColumns(out + "/log.csv").count == step + 1)
    }
}
