// Bringing a Hugging Face checkpoint, through the binary: `gpt generate --checkpoint FIXTURE
// --temperature 0` prints transformers' greedy continuation of the fixture's prompt;
// `gpt prepare --tokenizer-from` encodes data with a checkpoint's tokenizer and
// `gpt train --init-from` fine-tunes the checkpoint on it (or on a text file), writing a
// checkpoint that carries the tokenizer's companion files; and the flags that cannot go with
// --init-from or --tokenizer-from are refused.

import Foundation
import GPT
import Testing
import TestSupport
import Tokenizers

@Suite struct CLIHuggingFaceTests {
    static let runnable = HuggingFaceFixtures.modelNames

    static func scratch() throws -> String {
        let directory = NSTemporaryDirectory() + "gpt-hf-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// What `gpt generate` prints for greedy ids: the prompt, the decoded continuation, a newline.
    @Test(arguments: runnable)
    func generateGivesTransformersGreedyTokens(fixture: String) throws {
        let directory = HuggingFaceFixtures.modelDirectory(fixture)
        let expected = try HuggingFaceFixtures.json(directory + "/expected.json")
        let prompt = expected["prompt"] as! String
        let greedy = ((expected["greedy"] as! [String: Any])["new_ids"] as! [Int]).map(Int32.init)
        let tokenizer = try TokenizerFile.load(from: directory + "/tokenizer.json")
        let run = try CLI.run(["generate", "--checkpoint", directory, "--prompt", prompt, "--temperature", "0",
                               "--max-tokens", "\(greedy.count)", "--backend", "reference"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == prompt + String(decoding: tokenizer.decodeBytes(greedy), as: UTF8.self) + "\n", "\(fixture)")
        #expect(run.stderr.contains("[\(greedy.count) tokens in"), "\(run.stderr)")
    }

    /// Prepared data from the Llama fixture's tokenizer, then 3 fine-tuning steps from its weights:
    /// the output is a checkpoint that generates and keeps the tokenizer's companion files.
    @Test func prepareWithTheCheckpointsTokenizerThenFineTune() throws {
        let fixture = HuggingFaceFixtures.modelDirectory("llama-tied-f32")
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let prepared = directory + "/data", out = directory + "/tuned"
        let prepare = try CLI.run(["prepare", "--input", Fixture.shared.corpus, "--tokenizer-from", fixture, "--out", prepared])
        #expect(prepare.status == 0, "\(prepare.stderr)")
        #expect(prepare.stdout.contains("sentencepiece-bpe tokenizer from \(fixture), vocabulary 879"), "\(prepare.stdout)")
        #expect(FileManager.default.fileExists(atPath: prepared + "/tokenizer_config.json"))
        // The file is framed as encode frames a text: the tokenizer's BOS (1) comes first.
        #expect(try Data(contentsOf: URL(fileURLWithPath: prepared + "/train.bin")).prefix(2) == Data([1, 0]))

        let train = try CLI.run(["train", "--init-from", fixture, "--data", prepared, "--steps", "3", "--batch-size", "2",
                                 "--eval-batches", "1", "--backend", "reference", "--out", out])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("init from: \(fixture): its architecture, weights and tokenizer; a fresh optimizer"))
        #expect(train.stdout.contains("2 layers, 4 heads, 32 dim, ffn 64, context 64, vocabulary 879"), "\(train.stdout)")
        for name in ["tokenizer.json", "tokenizer_config.json", "generation_config.json", "model.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + name), "\(name)")
        }
        let generate = try CLI.run(["generate", "--checkpoint", out, "--prompt", "ROMEO:", "--max-tokens", "4",
                                    "--backend", "reference"])
        #expect(generate.status == 0, "\(generate.stderr)")
    }

    /// A text file is encoded by the checkpoint's tokenizer, not by characters; the result keeps
    /// the architecture (for the sharded multi-query fixture: one KV head, head_dim 16 in a 32-wide
    /// model, biases).
    @Test(arguments: [("gpt2-untied-f16", "bpe tokenizer, vocabulary 512"),
                      ("llama-mqa-bias-sharded", "4 heads (1 KV heads, head size 16), 32 dim")])
    func fineTuneOnATextFile(fixture name: String, described: String) throws {
        let fixture = HuggingFaceFixtures.modelDirectory(name)
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let train = try CLI.run(["train", "--init-from", fixture, "--data", Fixture.shared.corpus, "--steps", "2",
                                 "--batch-size", "2", "--eval-batches", "1", "--backend", "reference", "--dropout", "0.1",
                                 "--out", directory + "/tuned"])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains(described) && train.stdout.contains("dropout 0.1 (--dropout)"), "\(train.stdout)")
        let original = try HuggingFaceFixtures.json(fixture + "/config.json")
        let tuned = try HuggingFaceFixtures.json(directory + "/tuned/config.json")
        for key in ["model_type", "tie_word_embeddings", "num_key_value_heads", "head_dim", "attention_bias", "n_inner"] {
            #expect(tuned[key].map { "\($0)" } == original[key].map { "\($0)" }, "\(name): \(key)")
        }
    }

    @Test func flagsThatCannotGoTogetherAreUsageErrors() throws {
        let fixture = HuggingFaceFixtures.modelDirectory("gpt2-tied-f32")
        let cases: [([String], String)] = [
            (["train", "--init-from", fixture, "--data", Fixture.shared.corpus, "--resume", Fixture.shared.checkpoint],
             "--init-from cannot be combined with --resume"),
            (["train", "--init-from", fixture, "--data", Fixture.shared.corpus, "--config", "char-baby"],
             "--config cannot be combined with --init-from"),
            (["prepare", "--input", Fixture.shared.corpus, "--tokenizer-from", fixture, "--tokenizer", "char", "--out", "x"],
             "--tokenizer does not apply with --tokenizer-from"),
            (["prepare", "--input", Fixture.shared.corpus, "--tokenizer-from", fixture, "--vocab-size", "300", "--out", "x"],
             "--vocab-size does not apply with --tokenizer-from"),
        ]
        for (arguments, message) in cases {
            let run = try CLI.run(arguments)
            #expect(run.status == 64 && run.stderrLines.count == 1, "\(arguments): \(run.stderr)")
            #expect(run.stderr.contains(message), "\(run.stderr)")
        }
    }

    @Test func checkpointsThatCannotBeFineTunedAsAskedAreRuntimeErrors() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let prepared = directory + "/char-data"
        #expect(try CLI.run(["prepare", "--input", Fixture.shared.corpus, "--tokenizer", "char", "--out", prepared]).status == 0)
        let gpt2 = HuggingFaceFixtures.modelDirectory("gpt2-tied-f32")
        let cases: [([String], String)] = [
            (["train", "--init-from", gpt2, "--data", prepared, "--out", directory + "/a"],
             "was not tokenized with \(gpt2)'s tokenizer; prepare it with gpt prepare --tokenizer-from \(gpt2)"),
            (["train", "--init-from", directory + "/missing", "--data", prepared], "no such checkpoint directory"),
        ]
        for (arguments, message) in cases {
            let run = try CLI.run(arguments + ["--backend", "reference"])
            #expect(run.status == 1 && run.stderrLines.count == 1, "\(arguments): \(run.stderr)")
            #expect(run.stderr.contains(message), "\(run.stderr)")
        }
    }
}
