// `gpt generate` stops at the end-of-sequence tokens of a checkpoint's Hub tokenizer. The
// checkpoint holds a Hugging Face tokenizer fixture, with the companion files that name its EOS,
// and a TokenChain model forced to continue the prompt with " sweet night" and then an EOS token.
// Without the companion files the same checkpoint has no EOS and generation runs on to
// --max-tokens. The checkpoint is written through the library: there is no CLI command that
// imports Hub weights yet, and a trained model could not be made to emit the EOS on cue.

import Foundation
import GPT
import ReferenceBackend
import Testing
import TestSupport
import Tokenizers

@Suite struct CLIEndOfSequenceTests {
    static let prompt = "ROMEO:", continuation = " sweet night"

    /// A checkpoint in `directory` of `fixture`'s tokenizer and a model that, after the prompt,
    /// emits the continuation and then the tokenizer's end-of-sequence id number `eosIndex`;
    /// returns how many tokens that is.
    static func writeCheckpoint(fixture: String, eosIndex: Int, to directory: String) throws -> Int {
        let tokenizer = try TokenizerFile.load(from: HuggingFaceFixtures.tokenizerDirectory(fixture) + "/tokenizer.json")
        let eos = tokenizer.sequenceBoundaries.endOfSequence
        try #require(eos.indices.contains(eosIndex), "\(fixture) has EOS ids \(eos)")
        let tokens = [try #require(try tokenizer.encode(prompt).last)]
            + (try tokenizer.encode(continuation, addingSpecialTokens: false)) + [eos[eosIndex]]
        try #require(Set(tokens).count == tokens.count, "the chain \(tokens) repeats a token")
        let config = ModelConfig(vocabSize: tokenizer.vocabularySize, contextLength: 32, layers: 1, heads: 2,
                                 embeddingDim: 16, ffnDim: 32, norm: .rms, activation: .swiglu, positions: .rope,
                                 tiedEmbeddings: false, bias: false)
        let model = try GPTModel(config: config, backend: ReferenceBackend(), seed: 1)
        try model.loadParameterValues(TokenChain(tokens).parameters(
            count: model.layout.count, channels: config.embeddingDim, tokenEmbedding: model.layout.tokenEmbedding,
            finalNormWeight: model.layout.finalNormWeight, outputHead: model.layout.outputHead))
        try Checkpoint.save(model, tokenizer: tokenizer, to: directory)
        return tokens.count - 1
    }

    static func generate(_ checkpoint: String, extra: [String] = []) throws -> Run {
        try CLI.run(["generate", "--checkpoint", checkpoint, "--backend", "reference", "--prompt", prompt,
                     "--temperature", "0", "--max-tokens", "12"] + extra)
    }

    /// Llama 3 lists two EOS ids (end of text, end of turn): the second stops generation too.
    @Test(arguments: [("llama3-byte-level", 1), ("llama-metaspace", 0)])
    func generationStopsAtTheEndOfSequence(fixture: String, eosIndex: Int) throws {
        let checkpoint = NSTemporaryDirectory() + "gpt-eos-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: checkpoint) }
        let generated = try Self.writeCheckpoint(fixture: fixture, eosIndex: eosIndex, to: checkpoint)

        for extra in [[], ["--no-kv-cache"]] {
            let stopped = try Self.generate(checkpoint, extra: extra)
            #expect(stopped.status == 0, "\(stopped.stderr)")
            // The EOS ends the text and is not printed; the rate line counts it and says why it stopped.
            #expect(stopped.stdout == Self.prompt + Self.continuation + "\n", "\(extra)")
            #expect(stopped.stderr.contains("[\(generated) tokens (end of sequence) in"), "\(stopped.stderr)")
        }

        // Without the files that name the EOS it is an ordinary token: generation runs to --max-tokens.
        for name in ["generation_config.json", "tokenizer_config.json", "special_tokens_map.json"] {
            try? FileManager.default.removeItem(atPath: checkpoint + "/" + name)
        }
        let unstopped = try Self.generate(checkpoint)
        #expect(unstopped.status == 0, "\(unstopped.stderr)")
        #expect(unstopped.stdout.hasPrefix(Self.prompt + Self.continuation) && unstopped.stdout.count > Self.prompt.count
                + Self.continuation.count + 1, "\(unstopped.stdout)")
        #expect(unstopped.stderr.contains("[12 tokens in"), "\(unstopped.stderr)")
    }
}
