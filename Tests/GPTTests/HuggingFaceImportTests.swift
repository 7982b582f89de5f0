// Checkpoints written by transformers load as they are and compute what transformers computed:
// for each model fixture (Tests/Fixtures/HuggingFace/models), the logits of the stored prompt are
// within 1e-4 of the largest stored logit, and greedy decoding gives transformers' 16 tokens
// exactly, with and without the KV cache.
//
// By hand, the same checks run on other checkpoints: GPT_HF_EXTRA_CHECKPOINTS=DIR:DIR... names
// directories holding an expected.json and expected-logits.safetensors in the fixtures' format
// (scripts/hf_fixtures/oracle.py writes them with transformers, e.g. for a fine-tuned checkpoint);
// for those the test also prints the figures (max relative difference, greedy tokens agreeing).

import Foundation
import ReferenceBackend
import Testing
import TestSupport
import Tokenizers
@testable import GPT

@Suite struct HuggingFaceImportTests {
    /// The directories named by hand.
    static let extra = (ProcessInfo.processInfo.environment["GPT_HF_EXTRA_CHECKPOINTS"] ?? "").split(separator: ":")
        .map(String.init)
    /// Every model fixture, and the directories named by hand.
    static let importable = HuggingFaceFixtures.modelNames.map(HuggingFaceFixtures.modelDirectory) + extra

    struct Oracle {
        var prompt: String
        var inputIDs: [Int32]
        var greedy: [Int32]
        var logits: [Float]
        var vocabularySize: Int

        init(directory: String) throws {
            let expected = try HuggingFaceFixtures.json(directory + "/expected.json")
            prompt = expected["prompt"] as! String
            inputIDs = (expected["input_ids"] as! [Int]).map(Int32.init)
            greedy = ((expected["greedy"] as! [String: Any])["new_ids"] as! [Int]).map(Int32.init)
            let tensor = try #require(try SafeTensors.read(directory + "/expected-logits.safetensors").first)
            logits = tensor.values
            vocabularySize = tensor.shape[1]
        }
    }

    @Test(arguments: importable)
    func logitsMatchTransformers(directory: String) throws {
        let oracle = try Oracle(directory: directory)
        let (model, tokenizer) = try Checkpoint.load(from: directory, backend: ReferenceBackend())
        #expect(model.config.vocabSize == oracle.vocabularySize && tokenizer.vocabularySize == oracle.vocabularySize)
        #expect(try tokenizer.encode(oracle.prompt) == oracle.inputIDs, "\(directory): prompt ids")
        try model.forward(tokens: oracle.inputIDs, targets: nil, batch: 1, length: oracle.inputIDs.count)
        let ours = try model.allLogits()
        try #require(ours.count == oracle.logits.count)
        let largest = oracle.logits.map(abs).max()!
        let worst = zip(ours, oracle.logits).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-4 * largest, "\(directory): max |ours - transformers| = \(worst), largest logit \(largest)")
        if Self.extra.contains(directory) {
            print("\(directory): max |ours - transformers| / largest logit = \(worst / largest) (\(worst) / \(largest))")
        }
    }

    @Test(arguments: importable)
    func greedyTokensMatchTransformers(directory: String) throws {
        let oracle = try Oracle(directory: directory)
        let (model, tokenizer) = try Checkpoint.load(from: directory, backend: ReferenceBackend())
        let stops = Set(tokenizer.sequenceBoundaries.endOfSequence)
        for cached in [true, false] {
            var sampler = try Sampler(temperature: 0, seed: 0)
            let generated = try Generator(model: model, useKVCache: cached, stopTokens: stops)
                .generate(prompt: oracle.inputIDs, maxTokens: oracle.greedy.count, sampler: &sampler)
            #expect(generated == oracle.greedy, "\(directory), KV cache \(cached)")
            if Self.extra.contains(directory) {
                let agreeing = zip(generated, oracle.greedy).prefix { $0 == $1 }.count
                print("\(directory): KV cache \(cached): \(agreeing) of \(oracle.greedy.count) greedy tokens as transformers'")
            }
        }
    }

    /// A bf16 or f16 checkpoint holds the same numbers in float32 as transformers upcast them.
    @Test func halfPrecisionTensorsWidenExactly() throws {
        let directory = HuggingFaceFixtures.modelDirectory("gpt2-untied-f16")
        let file = try SafeTensorsFile(path: directory + "/model.safetensors")
        let entry = try #require(file.entry(named: "lm_head.weight"))
        #expect(entry.dtype == .f16 && entry.shape == [512, 32])
        let widened = try file.values(of: entry)
        let raw = try Data(contentsOf: URL(fileURLWithPath: directory + "/model.safetensors"))
        let start = file.header.dataStart + entry.begin
        let halves = (0..<entry.count).map { UInt16(raw[start + 2 * $0]) | UInt16(raw[start + 2 * $0 + 1]) << 8 }
        #expect(widened.map { Float16($0).bitPattern } == halves)
    }
}
