// A Hub tokenizer's end-of-sequence tokens through the library: a checkpoint keeps the companion
// files that name them, so a loaded checkpoint still knows where to stop. The model is a
// TokenChain: forced to continue the prompt with " sweet night" and then an EOS token.

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

        let loaded = try Checkpoint.load(from: directory, backend: ReferenceBackend()).tokenizer
        #expect(loaded.sequenceBoundaries == tokenizer.sequenceBoundaries)
        #expect(try loaded.encode(Self.prompt) == tokenizer.encode(Self.prompt))
        for (name, data) in hub.companionFiles {
            #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)) == data, "\(name)")
        }
    }
}
