// `gpt prepare` end to end: prepare the shared corpus with BPE, train on the prepared directory,
// generate from the checkpoint (which carries the BPE tokenizer); and prepare's usage errors.

import Foundation
import Testing

@Suite struct CLIPrepareTests {
    @Test func prepareTrainGenerateWithBPE() throws {
        let fixture = Fixture.shared
        let prepared = fixture.directory + "/prepared-\(UUID().uuidString)"
        let prepare = try CLI.run(["prepare", "--input", fixture.corpus, "--tokenizer", "bpe", "--vocab-size", "300",
                                   "--out", prepared])
        #expect(prepare.status == 0, "\(prepare.stderr)")
        // The corpus has few distinct words: merges run out before 300 tokens, and prepare says so.
        #expect(prepare.stdout.contains("prepared \(prepared): bpe tokenizer, vocabulary 298 (fewer than the 300 asked for"),
                "\(prepare.stdout)")
        // Progress lines (stdout is a file here): before the first byte there is no rate, so no ETA.
        let progress = prepare.stdout.split(separator: "\n").filter { $0.contains("% of ") }
        #expect(!progress.isEmpty && progress.allSatisfy { !$0.contains(" 0.0% of ") || $0.hasSuffix("| ETA --") },
                "\(prepare.stdout)")
        let files = try FileManager.default.contentsOfDirectory(atPath: prepared).sorted()
        #expect(files == ["meta.json", "tokenizer.json", "train.bin", "val.bin"])

        let checkpoint = fixture.directory + "/bpe-checkpoint-\(UUID().uuidString)"
        let train = try CLI.run(["train", "--data", prepared, "--config", fixture.tinyConfig, "--backend", "reference",
                                 "--steps", "6", "--batch-size", "2", "--eval-every", "3", "--eval-batches", "1",
                                 "--out", checkpoint])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("bpe tokenizer, vocabulary 298"), "\(train.stdout)")
        let tokenizer = try String(contentsOfFile: checkpoint + "/tokenizer.json", encoding: .utf8)
        #expect(tokenizer.contains("\"type\": \"BPE\""))

        let generate = try CLI.run(["generate", "--checkpoint", checkpoint, "--prompt", "ROMEO:", "--max-tokens", "12",
                                    "--backend", "reference"])
        #expect(generate.status == 0, "\(generate.stderr)")
        #expect(generate.stdout.hasPrefix("ROMEO:") && generate.stderr.contains("12 tokens"), "\(generate.stderr)")
    }

    @Test(arguments: [
        (["prepare", "--input", "{corpus}", "--tokenizer", "spm", "--out", "x"], "--tokenizer expects one of char, word, bpe, got 'spm'"),
        (["prepare", "--input", "{corpus}", "--tokenizer", "char", "--vocab-size", "100", "--out", "x"],
         "--vocab-size does not apply to the char tokenizer"),
        (["prepare", "--input", "{corpus}", "--val-fraction", "1.5", "--out", "x"], "--val-fraction must be below 1, got 1.5"),
        (["prepare", "--input", "{corpus}"], "missing required flag --out"),
        (["prepare", "--input", "a,,b", "--out", "x"], "--input has an empty file name"),
    ])
    func usageErrors(arguments: [String], expected: String) throws {
        let run = try CLI.run(Fixture.shared.substitute(arguments))
        #expect(run.status == 64)
        #expect(run.stderr == "gpt prepare: \(expected) (see gpt prepare --help)\n", "\(run.stderr)")
    }

    @Test(arguments: [
        (["prepare", "--input", "{missing}", "--out", "{dir}"], "no-such-file.txt: no such file"),
        (["prepare", "--input", "{empty}", "--out", "{dir}"], "the input is empty"),
        (["prepare", "--input", "{corpus}", "--vocab-size", "200", "--out", "{dir}"],
         "vocabulary size 200 is too small: at least 257 needed"),
        (["train", "--data", "{dir}", "--config", "{tiny}"], "not a prepared data directory"),
    ])
    func runtimeErrors(arguments: [String], expected: String) throws {
        let directory = Fixture.shared.directory + "/out-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let run = try CLI.run(Fixture.shared.substitute(arguments).map { $0 == "{dir}" ? directory : $0 })
        #expect(run.status == 1)
        #expect(run.stderrLines.count == 1, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("gpt \(arguments[0]): ") && run.stderr.contains(expected), "\(run.stderr)")
    }
}
