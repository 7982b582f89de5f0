// Special tokens and sequence boundaries: what each fixture's files say about BOS and EOS,
// special tokens matched whole wherever they appear, transformers' rule that tokenizer_config.json's
// add_bos_token / add_eos_token replace the template, and the fallbacks between the files.

import Foundation
import Testing
import TestSupport
@testable import Tokenizers

@Suite struct HuggingFaceSpecialTokenTests {
    @Test(arguments: [
        ("gpt2-byte-level", SequenceBoundaries(beginOfSequence: 0, endOfSequence: [0])),
        ("gpt2-prefix-space", SequenceBoundaries()),
        ("smollm-digits", SequenceBoundaries(beginOfSequence: 0, endOfSequence: [0])),
        ("llama3-byte-level", SequenceBoundaries(prepended: [700], beginOfSequence: 700, endOfSequence: [701, 705])),
        ("llama2-legacy", SequenceBoundaries(prepended: [1], beginOfSequence: 1, endOfSequence: [2])),
        ("llama-metaspace", SequenceBoundaries(prepended: [1], beginOfSequence: 1, endOfSequence: [2])),
        ("metaspace-always-split", SequenceBoundaries()),
        ("metaspace-never-eos", SequenceBoundaries(appended: [2])),
    ])
    func boundariesAreWhatTheFilesSay(fixture: String, expected: SequenceBoundaries) throws {
        #expect(try HuggingFaceFixtures.tokenizer(fixture).sequenceBoundaries == expected)
    }

    @Test func specialTokensAreNeverSplit() throws {
        let llama3 = try HuggingFaceFixtures.tokenizer("llama3-byte-level")
        let ids = try llama3.encode("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", addingSpecialTokens: false)
        #expect(ids.first == 703 && ids.contains(704) && ids.last == 705)
        #expect(try llama3.encode("<|eot_id|><|eot_id|>", addingSpecialTokens: false) == [705, 705])
        let llama = try HuggingFaceFixtures.tokenizer("llama-metaspace")
        #expect(try llama.encode("<s>") == [1, 1])  // the BOS, then the literal
        #expect(try llama.encode("</s>", addingSpecialTokens: false) == [2])
        #expect(try !llama.encode("<0x41>", addingSpecialTokens: false).contains(3 + 0x41))  // byte tokens are not matched in text
    }

    @Test func addingSpecialTokensCanBeTurnedOff() throws {
        let tokenizer = try HuggingFaceFixtures.tokenizer("metaspace-never-eos")
        let framed = try tokenizer.encode("Hello world")
        #expect(framed.last == 2)
        #expect(try tokenizer.encode("Hello world", addingSpecialTokens: false) == Array(framed.dropLast()))
        #expect(try CharTokenizer(corpus: "ab").encode("ab", addingSpecialTokens: false) == [0, 1])
    }

    /// A copy of llama-metaspace's tokenizer.json with the given companion files.
    static func directory(with files: [String: String]) throws -> String {
        let directory = RandomText.temporaryPath("hf-tokenizer")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: HuggingFaceFixtures.tokenizerDirectory("llama-metaspace") + "/tokenizer.json",
                                         toPath: directory + "/tokenizer.json")
        for (name, contents) in files { try contents.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8) }
        return directory
    }

    @Test func addBOSAndAddEOSReplaceTheTemplate() throws {
        let directory = try Self.directory(with: ["tokenizer_config.json":
            #"{"add_bos_token": false, "add_eos_token": true, "bos_token": "<s>", "eos_token": {"content": "</s>"}}"#])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tokenizer = try TokenizerFile.load(from: directory + "/tokenizer.json")
        #expect(tokenizer.sequenceBoundaries == SequenceBoundaries(appended: [2], beginOfSequence: 1, endOfSequence: [2]))
        #expect(try tokenizer.encode("Hi").first != 1 && tokenizer.encode("Hi").last == 2)
    }

    @Test func endOfSequenceFallsBackFromGenerationConfigToTheTokenNames() throws {
        let generation = try Self.directory(with: ["generation_config.json": #"{"eos_token_id": [2, 0]}"#,
                                                   "special_tokens_map.json": #"{"eos_token": "<unk>"}"#])
        let named = try Self.directory(with: ["special_tokens_map.json": #"{"eos_token": "<unk>", "bos_token": "<s>"}"#])
        defer { for path in [generation, named] { try? FileManager.default.removeItem(atPath: path) } }
        #expect(try TokenizerFile.load(from: generation + "/tokenizer.json").sequenceBoundaries.endOfSequence == [2, 0])
        let boundaries = try TokenizerFile.load(from: named + "/tokenizer.json").sequenceBoundaries
        #expect(boundaries.endOfSequence == [0] && boundaries.beginOfSequence == 1 && boundaries.prepended == [1])
    }

    @Test(arguments: [
        ("tokenizer_config.json", #"{"eos_token": "<|im_end|>"}"#, #"eos_token "<|im_end|>" is not a token of tokenizer.json"#),
        ("generation_config.json", #"{"eos_token_id": 100000}"#, "eos_token_id 100000 is outside the vocabulary of 879 tokens"),
        ("generation_config.json", #"{"eos_token_id": "two"}"#, "eos_token_id must be a non-negative integer"),
        ("tokenizer_config.json", #"{"add_bos_token": "yes"}"#, "add_bos_token must be true or false"),
        ("special_tokens_map.json", "[1, 2]", "not a JSON object"),
        ("tokenizer_config.json", "{", "invalid JSON"),
    ])
    func badCompanionFilesAreRefusedNamingTheFile(file: String, contents: String, expected: String) throws {
        let directory = try Self.directory(with: [file: contents])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            _ = try TokenizerFile.load(from: directory + "/tokenizer.json")
            Issue.record("loaded with a bad \(file)")
        } catch {
            let message = "\(error)"
            #expect(message.hasPrefix(directory + "/" + file + ": "), "\(message)")
            #expect(message.contains(expected), "\(message)")
            #expect(!message.contains("\n"))
        }
    }
}
