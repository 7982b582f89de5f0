// Model and run configs as `--config` names them (a preset, a ModelConfig JSON, or a run config
// JSON with "model"/"training" sections), and the one-line descriptions of both that train, bench
// and profile print.

import FoundationEssentials
import GPT
import Tokenizers

/// `--config`: a preset name, a ModelConfig JSON (camelCase keys, as `ModelConfig` encodes), or a
/// run config JSON (an object with a "model" and/or "training" key).
func loadRunConfig(_ value: String) throws -> RunConfig {
    let isFile = value.hasSuffix(".json") || value.contains("/")
    guard isFile else { return RunConfig(model: try loadModelConfig(value)) }
    let data = try FileIO.readData(value)
    if let keys = try? JSONDecoder().decode(TopLevelKeys.self, from: data).keys,
       keys.contains("model") || keys.contains("training") {
        return try RunConfig.load(path: value)
    }
    return try RunConfig.loadModel(path: value)
}

/// The keys of a JSON object, to tell a run config from a ModelConfig.
private struct TopLevelKeys: Decodable {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    let keys: [String]

    init(from decoder: Decoder) throws {
        keys = try decoder.container(keyedBy: Key.self).allKeys.map(\.stringValue)
    }
}

/// A preset name, or a path to a JSON ModelConfig (camelCase keys, as `ModelConfig` encodes).
func loadModelConfig(_ value: String) throws -> ModelConfig {
    let isFile = value.hasSuffix(".json") || value.contains("/")
    if isFile { return try RunConfig.loadModel(path: value).model }
    let config = try ModelConfig.preset(value)
    try config.validate()
    return config
}

/// The config on one line, for the training log.
func describe(_ config: ModelConfig) -> String {
    var heads = config.kvHeads == config.heads ? "" : "\(config.kvHeads) KV heads"
    if config.attentionWidth != config.embeddingDim { heads += (heads.isEmpty ? "" : ", ") + "head size \(config.headDim)" }
    heads = heads.isEmpty ? "" : " (\(heads))"
    return "\(config.layers) layers, \(config.heads) heads\(heads), \(config.embeddingDim) dim, ffn \(config.ffnDim), "
        + "context \(config.contextLength), vocabulary \(config.vocabSize), \(config.norm.rawValue) norm, "
        + "\(config.activation.rawValue), \(config.positions.rawValue) positions, "
        + "\(config.tiedEmbeddings ? "tied" : "untied") head, \(config.bias ? "with" : "no") bias, "
        + "dropout \(config.dropout)"
}

/// Every training setting on one line, in run.json's names.
func describe(_ t: TrainingSettings) -> String {
    let sample = t.samplePrompt.replacing("\n", with: "\\n")
    return "batchSize \(t.batchSize), gradientAccumulation \(t.gradientAccumulation), learningRate \(t.learningRate), "
        + "minLearningRate \(t.minLearningRate ?? t.learningRate / 10), warmupSteps \(t.warmupSteps), "
        + "maxSteps \(t.maxSteps), weightDecay \(t.weightDecay), beta1 \(t.beta1), beta2 \(t.beta2), "
        + "epsilon \(t.epsilon), gradientClip \(t.gradientClip), dropout \(t.dropout.map { "\($0)" } ?? "model's"), "
        + "evalInterval \(t.evalInterval), evalBatches \(t.evalBatches), checkpointInterval \(t.checkpointInterval), "
        + "sampleInterval \(t.sampleInterval), samplePrompt \"\(sample)\", sampleTokens \(t.sampleTokens), "
        + "seed \(t.seed), backend \(t.backend), device \(t.device ?? "default")"
}
