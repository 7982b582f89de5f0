// One tiny end-to-end run of the `gpt` binary: train (reference backend, 20 steps on generated
// text) then generate from the checkpoint it saved; plus `gpt backends`.

import Foundation
import Testing

@Suite struct CLIEndToEndTests {
    /// The "step N: train loss X, val loss Y" lines of a training log.
    static func losses(_ log: String) -> [(step: Int, train: Double, validation: Double)] {
        log.split(separator: "\n").compactMap { line in
            let parts = line.split(whereSeparator: { " :,".contains($0) })
            guard parts.count == 8, parts[0] == "step", let step = Int(parts[1]), parts[2] == "train",
                  let train = Double(parts[4]), let validation = Double(parts[7]) else { return nil }
            return (step, train, validation)
        }
    }

    @Test func trainPrintsProgressLossesAndSavesACheckpoint() throws {
        let fixture = Fixture.shared
        let run = fixture.trainRun
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.isEmpty, "\(run.stderr)")
        #expect(run.stdout.contains("backend: reference"))
        #expect(run.stdout.contains("parameters: "))
        // Not a terminal: plain progress lines every --log-every steps.
        for step in [5, 10, 15, 20] { #expect(run.stdout.contains("step \(step)/20 | loss "), "step \(step)") }
        #expect(!run.stdout.contains("\r"))
        #expect(run.stdout.contains("tok/s") && run.stdout.contains("ETA"))
        let losses = Self.losses(run.stdout)
        #expect(losses.map(\.step) == [10, 20])
        // The corpus has 21 distinct characters; a model that learned anything beats ln(21) = 3.04.
        #expect((losses.last?.validation ?? 99) < 3.0, "\(run.stdout)")
        #expect(run.stdout.contains("checkpoint saved to \(fixture.checkpoint)"))
        let files = try FileManager.default.contentsOfDirectory(atPath: fixture.checkpoint).sorted()
        // The Hugging Face files, plus what --resume needs and the run's log.
        for name in ["config.json", "model.safetensors", "tokenizer.json", "run.json", "optimizer.safetensors",
                     "training_state.json", "log.csv"] {
            #expect(files.contains(name), "\(name) missing from \(files)")
        }
    }

    @Test func generateStreamsTextFromTheCheckpoint() throws {
        let fixture = Fixture.shared
        let arguments = ["generate", "--checkpoint", fixture.checkpoint, "--prompt", "ROMEO:\\n", "--max-tokens", "30",
                         "--temperature", "0", "--backend", "reference"]
        let run = try CLI.run(arguments)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("ROMEO:\n"))
        #expect(run.stdout.unicodeScalars.count == "ROMEO:\n".unicodeScalars.count + 30 + 1)  // + final newline
        #expect(run.stderr.contains("30 tokens") && run.stderr.contains("tok/s on reference"))
        #expect(try CLI.run(arguments).stdout == run.stdout)  // greedy is deterministic

        let sampled = ["generate", "--checkpoint", fixture.checkpoint, "--max-tokens", "40", "--temperature", "1",
                       "--top-k", "5", "--seed", "9"]
        let first = try CLI.run(sampled), second = try CLI.run(sampled)
        #expect(first.status == 0 && first.stdout == second.stdout)
        let vocabulary = Set(Fixture.corpusText().unicodeScalars)
        #expect(first.stdout.unicodeScalars.allSatisfy { vocabulary.contains($0) })
    }

    @Test func backendsListsTheReferenceBackend() throws {
        let run = try CLI.run(["backends"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("reference") && run.stdout.contains("available"))
        #expect(run.stdout.contains("auto -> "))
    }
}
