// Run config files: partial sections over presets and defaults, the shipped configs/, and one-line
// errors for unknown keys, wrong types, duplicates and out-of-range values.

import Foundation
import GPT
import Testing

@Suite("Run config files")
struct RunConfigTests {
    func parse(_ text: String) throws -> RunConfig { try RunConfig.parse(Data(text.utf8)) }

    func message(_ text: String) -> String {
        do {
            _ = try parse(text)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func partialSectionsOverrideThePresetAndTheDefaults() throws {
        let config = try parse(#"{"model": {"preset": "shakespeare-char", "dropout": 0.1}, "training": {"batchSize": 8, "gradientAccumulation": 4}}"#)
        var expected = try ModelConfig.preset("shakespeare-char")
        expected.dropout = 0.1
        #expect(config.model == expected)
        #expect(config.training.batchSize == 8)
        #expect(config.training.gradientAccumulation == 4)
        #expect(config.training.learningRate == TrainingSettings().learningRate)
        #expect(try parse("{}") == RunConfig(model: try ModelConfig.preset("char-baby")))
    }

    @Test func kvHeadsIsAModelKeyAndFollowsHeadsWhenNotGiven() throws {
        // An ungrouped preset with more heads stays ungrouped; a given kvHeads groups them.
        let wider = try parse(#"{"model": {"preset": "char-baby", "heads": 8}}"#).model
        #expect(wider.heads == 8 && wider.kvHeads == 8)
        let grouped = try parse(#"{"model": {"preset": "llama-350m", "kvHeads": 4}}"#).model
        #expect(grouped.heads == 12 && grouped.kvHeads == 4)
        #expect(try parse(#"{"model": {"preset": "llama-char"}}"#).model.kvHeads == 2)
        #expect(message(#"{"model": {"preset": "llama-350m", "kvHeads": 5}}"#)
            .contains("kvHeads (5) must divide heads (12)"))
        #expect(message(#"{"model": {"preset": "char-baby", "kvHeads": 2}}"#).contains("needs rope positions"))
        #expect(message(#"{"model": {"kvHeads": "two"}}"#) == "model.kvHeads must be an integer")
    }

    @Test func encodedConfigsParseBackToTheSameValue() throws {
        var training = TrainingSettings()
        training.minLearningRate = 2e-5
        training.device = "1"
        // An encoded config states its vocabSize, so it parses back as one the data must match.
        let config = RunConfig(model: try ModelConfig.preset("llama-350m"), training: training, vocabularyFromData: false)
        #expect(try RunConfig.parse(try config.encoded()) == config)
        let grouped = RunConfig(model: try ModelConfig.preset("llama-char"), training: training, vocabularyFromData: false)
        #expect(try RunConfig.parse(try grouped.encoded()) == grouped)
        #expect(try RunConfig.parse(try RunConfig(model: try ModelConfig.preset("char-baby")).encoded())
                == RunConfig(model: try ModelConfig.preset("char-baby"), vocabularyFromData: false))
    }

    /// Issue 12, item 13: a bare ModelConfig is read strictly, and says whether it gave vocabSize.
    @Test func aBareModelConfigRefusesUnknownAndMissingKeys() throws {
        var fields = try JSONSerialization.jsonObject(with: JSONEncoder().encode(try ModelConfig.preset("char-baby")))
            as! [String: Any]
        func parse(_ object: [String: Any]) throws -> RunConfig {
            try RunConfig.parseModel(try JSONSerialization.data(withJSONObject: object))
        }
        #expect(try parse(fields).vocabularyFromData == false)
        #expect(try parse(fields).model == ModelConfig.preset("char-baby"))
        fields["vocabSize"] = nil
        #expect(try parse(fields).vocabularyFromData == true)
        #expect(throws: RunConfigError.self) { try parse(fields.merging(["dropuot": 0.1]) { $1 }) }
        fields["ffnDim"] = nil
        #expect(throws: RunConfigError("missing key 'ffnDim' (only vocabSize may be left out: then it is the data's)")) {
            try parse(fields)
        }
        fields["ffnDim"] = 4.5
        #expect(throws: RunConfigError("ffnDim must be an integer")) { try parse(fields) }
    }

    @Test(arguments: ModelConfig.presetNames)
    func shippedConfigsParse(preset: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let config = try RunConfig.load(path: root.appendingPathComponent("configs/\(preset).json").path)
        #expect(config.model == (try ModelConfig.preset(preset)).with(dropout: config.model.dropout))
        if preset == "llama-350m" {
            #expect(config.training.batchSize == 4 && config.training.gradientAccumulation == 8)
            #expect(config.model.vocabSize == 32000 && config.model.contextLength == 2048)
        }
    }

    @Test func errorsAreOneLineAndNameTheKey() {
        #expect(message(#"{"training": {"batchsize": 3}}"#).hasPrefix("unknown key 'training.batchsize' (known: backend, batchSize"))
        #expect(message(#"{"model": {"layer": 3}}"#).hasPrefix("unknown key 'model.layer'"))
        #expect(message(#"{"optimizer": {}}"#) == "unknown key 'optimizer' (known: model, training)")
        #expect(message(#"{"training": {"batchSize": "big"}}"#) == "training.batchSize must be an integer")
        #expect(message(#"{"training": {"learningRate": true}}"#) == "training.learningRate must be a number")
        #expect(message(#"{"model": {"layers": 1.5}}"#) == "model.layers must be an integer")
        #expect(message(#"{"training": {"maxSteps": 10.5}}"#) == "training.maxSteps must be an integer")
        #expect(message(#"{"model": {"norm": "batch"}}"#) == "model.norm: expects layer or rms, got 'batch'")
        #expect(message(#"{"training": {"seed": 1e30}}"#) == "training.seed must be an integer of at most 15 digits")
        #expect(message(#"{"training": {"learningRate": 0.01, "minLearningRate": 0.1}}"#)
                == "training.minLearningRate must not be above learningRate (the decay's floor), got 0.1 > 0.01")
        #expect(message(#"{"training": {"batchSize": 0}}"#) == "training.batchSize must be at least 1, got 0")
        #expect(message(#"{"model": {"preset": "tiny"}}"#).hasPrefix("unknown preset 'tiny'"))
        #expect(message(#"{"training": {"seed": 1, "seed": 2}}"#) == "duplicate key 'training.seed'")
        #expect(message(#"{"training": "#).hasPrefix("invalid JSON at byte"))
        #expect(message("[]") == "the file must be a JSON object")
        for text in [#"{"training": {"batchSize": "big"}}"#, #"{"model": {"heads": 5}}"#] {
            #expect(!message(text).contains("\n"))
        }
    }
}

extension ModelConfig {
    func with(dropout: Float) -> ModelConfig {
        var copy = self
        copy.dropout = dropout
        return copy
    }
}
