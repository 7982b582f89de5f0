// A Hub tokenizer's end-of-sequence tokens through the library: a checkpoint keeps the companion
// files that name them (so a loaded checkpoint still knows where to stop), and the training loop's
// samples end at them. The model is a TokenChain: forced to continue the prompt with
// " sweet night" and then an EOS token. The same run with the tokenizer read without its companion
// files (no EOS) samples on past that token.

import Compute
import Foundation
import GPT
import ReferenceBackend
import Testing
import TestSupport
import Tokenizers

@Suite struct EndOfSequenceTests {
    static let prompt = "ROMEO:", continuation = " sweet night"

    /// A RoPE model over `tokenizer`'s vocabulary that can only follow `chain`.
    static func chainModel(_ tokenizer: any Tokenizer, _ chain: TokenChain) throws -> GPTModel {
        let config = ModelConfig(vocabSize: tokenizer.vocabularySize, contextLength: 16, layers: 1, heads: 2,
                                 embeddingDim: 16, ffnDim: 32, norm: .rms, activation: .swiglu, positions: .rope,
                                 tiedEmbeddings: false, bias: false)
        let model = try GPTModel(config: config, backend: ReferenceBackend(), seed: 1)
        try model.loadParameterValues(chain.parameters(count: model.layout.count, channels: config.embeddingDim,
                                                       tokenEmbedding: model.layout.tokenEmbedding,
                                                       finalNormWeight: model.layout.finalNormWeight,
                                                       outputHead: model.layout.outputHead))
        return model
    }

    /// The prompt's last token, the continuation's tokens, then `end`.
    static func chain(_ tokenizer: any Tokenizer, end: Int32) throws -> TokenChain {
        let tokens = [try #require(try tokenizer.encode(prompt).last)]
            + (try tokenizer.encode(continuation, addingSpecialTokens: false)) + [end]
        try #require(Set(tokens).count == tokens.count, "the chain \(tokens) repeats a token")
        return TokenChain(tokens)
    }

    static func fixtureTokenizer(_ name: String) throws -> any Tokenizer {
        try TokenizerFile.load(from: HuggingFaceFixtures.tokenizerDirectory(name) + "/tokenizer.json")
    }

    @Test(arguments: ["llama3-byte-level", "llama2-legacy", "llama-metaspace"])
    func aCheckpointKeepsTheTokenizersCompanionFiles(fixture: String) throws {
        let tokenizer = try Self.fixtureTokenizer(fixture)
        let hub = try #require(tokenizer as? HuggingFaceTokenizer)
        #expect(!tokenizer.sequenceBoundaries.endOfSequence.isEmpty)
        let directory = RandomText.temporaryPath("eos-checkpoint")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let model = try Self.chainModel(tokenizer, try Self.chain(tokenizer, end: tokenizer.sequenceBoundaries.endOfSequence[0]))
        try Checkpoint.save(model, tokenizer: tokenizer, to: directory)
        // A second save replaces the companions as files the checkpoint owns (its manifest lists them).
        try Checkpoint.save(model, tokenizer: tokenizer, to: directory)

        let loaded = try Checkpoint.load(from: directory, backend: ReferenceBackend()).tokenizer
        #expect(loaded.sequenceBoundaries == tokenizer.sequenceBoundaries)
        #expect(try loaded.encode(Self.prompt) == tokenizer.encode(Self.prompt))
        for (name, data) in hub.companionFiles {
            #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)) == data, "\(name)")
        }
    }

    /// One training step at a learning rate too small to move the chain, then a sample.
    static func sample(_ tokenizer: any Tokenizer, model chain: TokenChain, directory: String) throws -> String {
        var training = TrainingSettings()
        (training.maxSteps, training.batchSize, training.evalInterval, training.evalBatches) = (1, 2, 1, 1)
        (training.learningRate, training.warmupSteps) = (1e-7, 0)
        (training.sampleInterval, training.samplePrompt, training.sampleTokens) = (1, prompt, 8)
        let forced = try chainModel(tokenizer, chain)
        let tokens = try tokenizer.encode(try HuggingFaceFixtures.corpus(), addingSpecialTokens: false)
        let corpus = TrainingCorpus(dataset: try TextDataset(tokens: tokens, contextLength: 16), tokenizer: tokenizer,
                                    name: "fixture corpus")
        let loop = try TrainingLoop(run: RunConfig(model: forced.config, training: training), corpus: corpus,
                                    backend: ReferenceBackend())
        try loop.model.loadParameterValues(try forced.parameterValues())
        var samples: [String] = []
        var hooks = TrainingHooks()
        hooks.sample = { samples.append($1) }
        _ = try loop.train(output: TrainingOutput(directory: directory), hooks: hooks)
        try #require(samples.count == 1)
        return samples[0]
    }

    @Test(arguments: ["llama3-byte-level", "llama-metaspace"])
    func trainingSamplesEndAtTheEndOfSequence(fixture: String) throws {
        let tokenizer = try Self.fixtureTokenizer(fixture)
        // The last listed id: Llama 3 lists two (end of text, end of turn), and either ends a sample.
        let end = try #require(tokenizer.sequenceBoundaries.endOfSequence.last)
        let chain = try Self.chain(tokenizer, end: end)
        let directory = RandomText.temporaryPath("eos-samples")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let stopped = try Self.sample(tokenizer, model: chain, directory: directory + "/stopped")
        #expect(stopped == Self.prompt + Self.continuation)
        let written = try String(contentsOfFile: directory + "/stopped/" + TrainingLoop.samplesFileName, encoding: .utf8)
        #expect(written == "=== step 1 ===\n" + Self.prompt + Self.continuation + "\n")

        // tokenizer.json alone: the EOS is an ordinary token, and the sample runs on past it.
        let path = HuggingFaceFixtures.tokenizerDirectory(fixture) + "/tokenizer.json"
        let withoutEOS = try TokenizerFile.load(jsonData: Data(contentsOf: URL(fileURLWithPath: path)), path: path)
        #expect(withoutEOS.sequenceBoundaries.endOfSequence.isEmpty)
        let unstopped = try Self.sample(withoutEOS, model: chain, directory: directory + "/unstopped")
        #expect(unstopped.hasPrefix(Self.prompt + Self.continuation) && unstopped.count > stopped.count, "\(unstopped)")
    }
}
