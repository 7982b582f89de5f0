// A corpus ready to train on: its dataset (training and validation tokens, batches), the tokenizer
// that made the tokens, and a name for messages. From a `gpt prepare` directory (read window by window), a
// UTF-8 text file, or text in memory (both with a character tokenizer built from the text, the last
// 10% held out for validation), or a text file encoded by a given tokenizer (fine-tuning).

import Tokenizers

/// Tokens to train on and the tokenizer they came from.
public struct TrainingCorpus {
    /// The tokens, split into training and validation, and their batches.
    public let dataset: any TrainingData
    /// The tokenizer that produced `dataset`; a trained model's checkpoint carries it.
    public let tokenizer: any Tokenizer
    /// Names the corpus in messages: its path when it was loaded from one.
    public let name: String
    /// Where it came from and its hash, recorded in training checkpoints; nil: unknown.
    public let fingerprint: DataFingerprint?

    /// A corpus of tokens `tokenizer` made.
    public init(dataset: any TrainingData, tokenizer: any Tokenizer, name: String, fingerprint: DataFingerprint? = nil) {
        self.dataset = dataset
        self.tokenizer = tokenizer
        self.name = name
        self.fingerprint = fingerprint
    }

    /// `text` tokenized by characters (the vocabulary is the characters it holds), windows of
    /// `contextLength` tokens; the last 10% of the tokens are held out for validation.
    public init(text: String, contextLength: Int, name: String = "text") throws {
        let tokenizer = try CharTokenizer(corpus: text)
        let dataset = try TextDataset(tokens: try tokenizer.encode(text), contextLength: contextLength)
        var hash = SHA256()
        hash.update(Array(text.utf8))
        self.init(dataset: dataset, tokenizer: tokenizer, name: name,
                  fingerprint: DataFingerprint(path: name, bytes: text.utf8.count, sha256: hash.finalize()))
    }

    /// A directory written by `DataPreparation` (`gpt prepare`), read window by window, or else a
    /// UTF-8 text file read as `init(text:contextLength:name:)` does.
    public static func load(path: String, contextLength: Int) throws -> TrainingCorpus {
        if FileIO.isDirectory(path) {
            let prepared = try PreparedDataset(directory: path, contextLength: contextLength)
            return TrainingCorpus(dataset: prepared, tokenizer: prepared.tokenizer, name: path,
                                  fingerprint: prepared.fingerprint)
        }
        let (dataset, tokenizer, fingerprint) = try TextDataset.loadCharacters(path: path, contextLength: contextLength)
        return TrainingCorpus(dataset: dataset, tokenizer: tokenizer, name: path, fingerprint: fingerprint)
    }

    /// A UTF-8 text file encoded by `tokenizer` (a checkpoint's, to fine-tune it), framed as its
    /// `encode` frames a text; the last 10% of the tokens are held out for validation.
    public static func load(textFile path: String, tokenizer: any Tokenizer, contextLength: Int) throws -> TrainingCorpus {
        let dataset = try TextDataset(tokens: try tokenizer.encode(try FileIO.readText(path)), contextLength: contextLength)
        return TrainingCorpus(dataset: dataset, tokenizer: tokenizer, name: path)
    }
}
