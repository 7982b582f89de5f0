// Fine-tuning in process: data prepared with a checkpoint's tokenizer is framed as its `encode`
// frames a text and keeps the tokenizer's companion files; a run initialised from a checkpoint
// written by transformers starts from its exact weights with a fresh optimizer and the
// checkpoint's architecture, trains, and saves a checkpoint that loads back to the trained weights
// with the tokenizer and its companions; data tokenized otherwise is refused.

import Foundation
import ReferenceBackend
import Testing
import TestSupport
import Tokenizers
@testable import GPT

@Suite struct FineTuningTests {
    static let text = String(repeating: "ROMEO:\nBut soft, what light through yonder window breaks?\n\n", count: 40)

    static func scratch(_ name: String) -> String { NSTemporaryDirectory() + "finetune-\(name)-\(UUID().uuidString)" }

    /// `text` prepared with the tokenizer of `directory` into a new directory (3 files, so each is
    /// framed).
    static func prepare(with directory: String, files: Int = 1) throws -> String {
        let output = scratch("data")
        var inputs: [String] = []
        for index in 0..<files {
            let path = scratch("input-\(index)") + ".txt"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            inputs.append(path)
        }
        var options = PreparationOptions(inputs: inputs, tokenizerKind: "bpe", outputDirectory: output)
        options.tokenizerDirectory = directory
        try DataPreparation.prepare(options)
        for path in inputs { try? FileManager.default.removeItem(atPath: path) }
        return output
    }

    static func training(steps: Int) -> TrainingSettings {
        var settings = TrainingSettings()
        (settings.maxSteps, settings.batchSize, settings.warmupSteps, settings.evalInterval, settings.evalBatches) = (steps, 2, 1, steps, 1)
        settings.backend = "reference"
        return settings
    }

    @Test(arguments: [("llama-metaspace", true, false), ("metaspace-never-eos", false, true)])
    func preparedFilesAreFramedAsEncodeFramesAText(tokenizer name: String, bos: Bool, eos: Bool) throws {
        let source = HuggingFaceFixtures.tokenizerDirectory(name)
        let output = try Self.prepare(with: source, files: 3)
        defer { try? FileManager.default.removeItem(atPath: output) }
        let dataset = try PreparedDataset(directory: output, contextLength: 8)
        let tokenizer = try TokenizerFile.load(from: source + "/tokenizer.json")
        #expect(tokenizer.sequenceBoundaries.prepended.isEmpty != bos && tokenizer.sequenceBoundaries.appended.isEmpty != eos)
        let tokens = try dataset.train.allTokens + dataset.validation.allTokens
        let framing = tokenizer.sequenceBoundaries
        // The first file, before the validation cut, is exactly what encode gives; every file
        // gets the framing once (the cut itself is a stream boundary, not a text's).
        #expect(tokens.starts(with: try tokenizer.encode(Self.text)), "\(name)")
        for token in framing.prepended + framing.appended {
            #expect(tokens.filter { $0 == token }.count == 3, "\(name): token \(token)")
        }
        #expect(framing.prepended.isEmpty || tokens.first == framing.prepended.first)
        #expect(framing.appended.isEmpty || tokens.last == framing.appended.last)
        #expect(dataset.tokenizer.sequenceBoundaries == tokenizer.sequenceBoundaries)
        let companions = try FileManager.default.contentsOfDirectory(atPath: source).filter(TokenizerFile.companionFileNames.contains)
        for file in companions { #expect(FileManager.default.fileExists(atPath: output + "/" + file), "\(file)") }
    }

    /// Preparing again with a tokenizer that has no companion files leaves none of the old ones.
    @Test func preparingAgainRemovesTheOldTokenizersCompanionFiles() throws {
        let output = try Self.prepare(with: HuggingFaceFixtures.tokenizerDirectory("llama2-legacy"))
        defer { try? FileManager.default.removeItem(atPath: output) }
        #expect(FileManager.default.fileExists(atPath: output + "/special_tokens_map.json"))
        let input = Self.scratch("input") + ".txt"
        try Self.text.write(toFile: input, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: input) }
        try DataPreparation.prepare(PreparationOptions(inputs: [input], tokenizerKind: "char", outputDirectory: output))
        let left = try FileManager.default.contentsOfDirectory(atPath: output).filter(TokenizerFile.companionFileNames.contains)
        #expect(left.isEmpty, "\(left)")
    }

    @Test func aRunInitialisedFromATransformersCheckpointStartsFromItsWeightsAndSavesOurs() throws {
        let source = HuggingFaceFixtures.modelDirectory("gpt2-untied-f16")
        let data = try Self.prepare(with: source), out = Self.scratch("out")
        defer { for path in [data, out] { try? FileManager.default.removeItem(atPath: path) } }
        let corpus = try TrainingCorpus.load(path: data, contextLength: 64)
        let (original, _) = try Checkpoint.load(from: source, backend: ReferenceBackend())
        var settings = Self.training(steps: 3)
        settings.dropout = 0.1
        let loop = try TrainingLoop(initializingFrom: source, training: settings, corpus: corpus, backend: ReferenceBackend())
        var expected = original.config
        expected.dropout = 0.1
        #expect(loop.run.model == expected && loop.state.step == 0 && loop.resumedFrom == nil)
        #expect(try loop.model.parameterValues() == original.parameterValues())

        let summary = try loop.train(output: TrainingOutput(directory: out))
        #expect(summary.lastStep == 3 && summary.finalValidationLoss?.isFinite == true)
        let (saved, tokenizer) = try Checkpoint.load(from: out, backend: ReferenceBackend())
        #expect(try saved.parameterValues() == loop.model.parameterValues())
        #expect(try saved.parameterValues() != original.parameterValues())
        #expect(TrainingLoop.sameTokenizer(tokenizer, corpus.tokenizer))
        #expect(FileManager.default.fileExists(atPath: out + "/generation_config.json"))
        // config.json names the tokenizer's BOS and EOS, as transformers' own did.
        let config = try HuggingFaceFixtures.json(out + "/config.json"), imported = try HuggingFaceFixtures.json(source + "/config.json")
        #expect(config["bos_token_id"] as? Int == imported["bos_token_id"] as? Int)
        #expect(config["eos_token_id"] as? Int == imported["eos_token_id"] as? Int && config["eos_token_id"] is Int)
    }

    @Test func dataTokenizedOtherwiseIsRefused() throws {
        let source = HuggingFaceFixtures.modelDirectory("llama-tied-f32")
        let other = try Self.prepare(with: HuggingFaceFixtures.tokenizerDirectory("metaspace-never-eos"))
        defer { try? FileManager.default.removeItem(atPath: other) }
        let corpus = try TrainingCorpus.load(path: other, contextLength: 64)
        let error = try #require(throws: FineTuningError.self) {
            try TrainingLoop(initializingFrom: source, training: Self.training(steps: 1), corpus: corpus, backend: ReferenceBackend())
        }
        #expect(error.description.contains("gpt prepare --tokenizer-from \(source)"), "\(error)")
        // The same vocabulary with other framing is another tokenizer.
        #expect(!TrainingLoop.sameTokenizer(corpus.tokenizer, try Checkpoint.readTokenizer(from: source)))
    }

    /// A text file is tokenized by the checkpoint's tokenizer, BOS first.
    @Test func aTextFileIsEncodedByTheGivenTokenizer() throws {
        let tokenizer = try Checkpoint.readTokenizer(from: HuggingFaceFixtures.modelDirectory("llama-tied-f32"))
        let path = Self.scratch("text") + ".txt"
        try Self.text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let corpus = try TrainingCorpus.load(textFile: path, tokenizer: tokenizer, contextLength: 8)
        #expect(corpus.tokenizer.vocabularySize == 879)
        #expect(corpus.dataset.trainTokenCount + corpus.dataset.validationTokenCount == (try tokenizer.encode(Self.text)).count)
    }
}
