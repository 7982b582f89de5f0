// A bare ModelConfig file (`--config model.json`, camelCase keys as ModelConfig encodes them), read
// by the run config's strict rules: an unknown or duplicated key is an error naming it and the
// known ones, a value of the wrong type names its key, and every key is required except vocabSize,
// which may be left out to take the training data's vocabulary. A vocabSize given is one the
// data must match (TrainingLoop refuses a mismatch instead of replacing it).

import FoundationEssentials
import Tokenizers

extension RunConfig {
    /// Reads a bare ModelConfig file as a run with default training settings.
    public static func loadModel(path: String) throws -> RunConfig {
        let data = try FileIO.readData(path)
        do {
            return try parseModel(data)
        } catch let error as RunConfigError {
            throw RunConfigError("\(path): \(error.description)")
        }
    }

    /// Parses a bare ModelConfig (see the file comment for the rules).
    public static func parseModel(_ data: Data) throws -> RunConfig {
        let root: JSONValue
        do {
            root = try JSONParser.parse(Array(data))
        } catch {
            throw RunConfigError("\(error)")
        }
        let given = try fields(root, path: "", what: "a model config")
        let base = try encodeToObject(try ModelConfig.preset("char-baby"))
        try rejectUnknown(given, known: Set(base.keys), path: "")
        if let missing = base.keys.sorted().first(where: { $0 != "vocabSize" && given[$0] == nil }) {
            throw RunConfigError("missing key '\(missing)' (only vocabSize may be left out: then it is the data's)")
        }
        let model = try decode(ModelConfig.self, base: base, overrides: given, section: "")
        do {
            try model.validate()
        } catch {
            throw RunConfigError("\(error)")
        }
        return RunConfig(model: model, vocabularyFromData: given["vocabSize"] == nil)
    }
}
