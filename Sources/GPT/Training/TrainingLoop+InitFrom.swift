// Fine-tuning: a fresh run that starts from a checkpoint's weights instead of random ones
// (nanoGPT's init_from). The checkpoint may be ours or one transformers wrote; it decides the
// architecture, and the run brings only how to train (its TrainingSettings) and the data, which
// must be tokenized by the checkpoint's own tokenizer. The optimizer starts fresh (AdamW's moments
// at zero, step 1 of the schedule); dropout is the run's (0 unless set: an imported config's
// dropout rates describe its original training). The run's checkpoints are ours, which
// transformers loads too, and carry the tokenizer with its companion files.

import Compute
import Tokenizers

/// A fine-tuning run that cannot start from its checkpoint as asked.
public struct FineTuningError: Error, CustomStringConvertible, Equatable {
    public let description: String
    /// An error with this message.
    public init(_ description: String) { self.description = description }
}

extension TrainingLoop {
    /// A run of `training` on `corpus` whose model is the checkpoint in `directory`: its config
    /// (dropout from `training`, else 0) and its parameters, with a fresh optimizer. `corpus` must
    /// be tokenized by the checkpoint's tokenizer (`DataPreparation` with `tokenizerDirectory`, or
    /// `TrainingCorpus.load(textFile:tokenizer:contextLength:)`). The memory estimate is checked
    /// as for a fresh run (`memoryLimit`, `parallelism`) before the model is allocated.
    public convenience init(initializingFrom directory: String, training: TrainingSettings, corpus: TrainingCorpus,
                            backend: any Backend, memoryLimit: Int? = nil,
                            parallelism: DataParallelism = .singleProcess) throws {
        let root = try Checkpoint.existingDirectory(directory)
        let (config, imported) = try Checkpoint.readConfigFile(in: root)
        let tokenizer = try Checkpoint.readTokenizer(in: root, config: config, imported: imported)
        guard Self.sameTokenizer(corpus.tokenizer, tokenizer) else {
            throw FineTuningError("\(corpus.name) was not tokenized with \(root)'s tokenizer; prepare it with "
                                  + "gpt prepare --tokenizer-from \(root) (or train on a text file)")
        }
        guard tokenizer.vocabularySize == config.vocabSize else {
            throw FineTuningError("\(root): the model has \(config.vocabSize) embedding rows but its tokenizer "
                                  + "\(tokenizer.vocabularySize) tokens; fine-tuning needs them equal")
        }
        var model = config
        model.dropout = training.dropout ?? 0
        try self.init(run: RunConfig(model: model, training: training), corpus: corpus, backend: backend,
                      memoryLimit: memoryLimit, parallelism: parallelism)
        try self.model.loadParameterValues(try Checkpoint.readParameterValues(in: root, config: config, imported: imported))
    }

    /// Whether two tokenizers give the same ids for every text: the same file, kind and framing.
    static func sameTokenizer(_ a: any Tokenizer, _ b: any Tokenizer) -> Bool {
        guard a.kind == b.kind, a.vocabularySize == b.vocabularySize, a.sequenceBoundaries == b.sequenceBoundaries,
              let first = try? a.jsonData(), let second = try? b.jsonData() else { return false }
        return first == second
    }
}
