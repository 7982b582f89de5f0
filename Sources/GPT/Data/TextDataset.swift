// A tokenized text corpus split into training and validation tokens (the last 10% held out), and the
// (B, T) batches the trainer consumes: random windows for training, a fixed sequence for evaluation.
// Batching works on any `TokenStorage`, so a prepared directory's token files (PreparedDataset,
// read window by window) yield batches the same way as tokens in memory; reading a file can throw.

import Compute
import FoundationEssentials
import Tokenizers

/// B windows of T tokens, row-major, with next-token targets (targets[i] = the token after tokens[i]).
public struct TokenBatch: Equatable {
    /// B × T token ids.
    public var tokens: [Int32]
    /// The next token of each, B × T.
    public var targets: [Int32]
    /// B: windows.
    public let batch: Int
    /// T: tokens per window.
    public let length: Int

    /// Windows `rows` of this batch.
    public func rows(_ rows: Range<Int>) -> TokenBatch {
        let span = (rows.lowerBound * length)..<(rows.upperBound * length)
        return TokenBatch(tokens: Array(tokens[span]), targets: Array(targets[span]), batch: rows.count, length: length)
    }
}

/// A corpus that cannot be trained on, in one line.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    /// The text file holds nothing.
    case emptyFile(path: String)
    /// A split too short for one window of the context length and its target.
    case tooShort(trainTokens: Int, validationTokens: Int, contextLength: Int)
    /// A context length or split fraction out of range.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .emptyFile(path):
            return "\(path): the file is empty"
        case let .tooShort(train, validation, context):
            return "text too short for context length \(context): \(train + validation) tokens give "
                + "\(train) for training and \(validation) for validation, but each split "
                + "needs more than \(context + 1)"
        case let .invalidArgument(reason):
            return reason
        }
    }
}

/// What the training loop needs from a dataset, in memory or read from files.
public protocol TrainingData {
    /// T: window length.
    var contextLength: Int { get }
    /// Tokens in the training split.
    var trainTokenCount: Int { get }
    /// Tokens in the validation split.
    var validationTokenCount: Int { get }
    /// An endless stream of random training windows, the same for the same seed.
    func trainingBatches(batchSize: Int, seed: UInt64) -> RandomBatches
    /// `count` fixed batches spread over the validation split, for evaluation.
    func validationBatches(batchSize: Int, count: Int) throws -> [TokenBatch]
    /// `count` fixed batches spread over the training split, for a training-loss estimate.
    func trainingEvaluationBatches(batchSize: Int, count: Int) throws -> [TokenBatch]
}

extension TrainingData {
    /// Checks that both splits hold more than T + 1 tokens.
    static func checkLengths(train: Int, validation: Int, contextLength: Int) throws {
        guard train > contextLength + 1, validation > contextLength + 1 else {
            throw DatasetError.tooShort(trainTokens: train, validationTokens: validation, contextLength: contextLength)
        }
    }
}

/// Tokens in memory, split into training and validation.
public struct TextDataset: TrainingData {
    /// The training split.
    public let train: [Int32]
    /// The validation split (the end of the tokens).
    public let validation: [Int32]
    /// T: window length.
    public let contextLength: Int

    /// Splits `tokens`: the last `validationFraction` of them (rounded up) are held out.
    /// Both splits must hold more than T + 1 tokens.
    public init(tokens: [Int32], contextLength: Int, validationFraction: Double = 0.1) throws {
        guard contextLength >= 1 else {
            throw DatasetError.invalidArgument("context length must be at least 1, got \(contextLength)")
        }
        guard validationFraction > 0 && validationFraction < 1 else {
            throw DatasetError.invalidArgument("validation fraction must be in (0, 1), got \(validationFraction)")
        }
        let validationCount = Int((Double(tokens.count) * validationFraction).rounded(.up))
        let split = tokens.count - validationCount
        train = Array(tokens[..<split])
        validation = Array(tokens[split...])
        self.contextLength = contextLength
        try Self.checkLengths(train: train.count, validation: validation.count, contextLength: contextLength)
    }

    /// Reads a UTF-8 text file and builds a character tokenizer from it, then splits its tokens.
    public static func loadCharacters(path: String, contextLength: Int) throws
        -> (dataset: TextDataset, tokenizer: CharTokenizer, fingerprint: DataFingerprint)
    {
        let text = try FileIO.readText(path)
        guard !text.isEmpty else { throw DatasetError.emptyFile(path: path) }
        let tokenizer = try CharTokenizer(corpus: text)
        let dataset = try TextDataset(tokens: try tokenizer.encode(text), contextLength: contextLength)
        return (dataset, tokenizer, DataFingerprint(path: path, contents: text.utf8))
    }

    public var trainTokenCount: Int { train.count }
    public var validationTokenCount: Int { validation.count }

    /// The window of `split` starting at each of `starts`, with its targets.
    static func batch(from split: any TokenStorage, starts: [Int], length: Int) throws -> TokenBatch {
        var tokens: [Int32] = [], targets: [Int32] = []
        tokens.reserveCapacity(starts.count * length)
        targets.reserveCapacity(starts.count * length)
        var window: [Int32] = []
        window.reserveCapacity(length + 1)
        for start in starts {
            window.removeAll(keepingCapacity: true)
            try split.appendTokens(from: start, count: length + 1, to: &window)
            tokens.append(contentsOf: window[0 ..< length])
            targets.append(contentsOf: window[1 ... length])
        }
        return TokenBatch(tokens: tokens, targets: targets, batch: starts.count, length: length)
    }

    /// An endless, deterministic stream of random training windows drawn from `seed`.
    public func trainingBatches(batchSize: Int, seed: UInt64) -> RandomBatches {
        RandomBatches(tokens: train, batchSize: batchSize, length: contextLength, seed: seed)
    }

    /// `count` batches of windows spread evenly over the validation split: the same every call,
    /// so successive evaluations are comparable.
    public func validationBatches(batchSize: Int, count: Int) -> [TokenBatch] {
        // Tokens in memory never fail to read.
        (try? Self.evenlySpacedBatches(from: validation, batchSize: batchSize, count: count, length: contextLength)) ?? []
    }

    /// Like `validationBatches`, over the training split (an estimate of the training loss that
    /// does not depend on which random batches the last steps happened to draw).
    public func trainingEvaluationBatches(batchSize: Int, count: Int) -> [TokenBatch] {
        (try? Self.evenlySpacedBatches(from: train, batchSize: batchSize, count: count, length: contextLength)) ?? []
    }

    static func evenlySpacedBatches(from split: any TokenStorage, batchSize: Int, count: Int, length: Int) throws
        -> [TokenBatch]
    {
        let windows = batchSize * count
        let lastStart = split.count - length - 1
        let starts = (0..<windows).map { windows == 1 ? 0 : $0 * lastStart / (windows - 1) }
        return try (0..<count).map { index in
            try batch(from: split, starts: Array(starts[index * batchSize ..< (index + 1) * batchSize]), length: length)
        }
    }
}

/// Random (B, T) training windows; the same seed gives the same sequence of batches.
public struct RandomBatches {
    let tokens: any TokenStorage
    let batchSize: Int
    let length: Int
    var generator: SplitMix64

    init(tokens: any TokenStorage, batchSize: Int, length: Int, seed: UInt64) {
        self.tokens = tokens
        self.batchSize = batchSize
        self.length = length
        generator = SplitMix64(seed: seed)
    }

    /// The next batch (the stream is endless); throws when a token file can no longer be read.
    public mutating func next() throws -> TokenBatch { try next(rows: 0..<batchSize) }

    /// The next batch's windows `rows` only (a data-parallel rank's part): the stream advances past
    /// the whole batch, and only these windows are read.
    public mutating func next(rows: Range<Int>) throws -> TokenBatch {
        // Window starts are uniform over 0...(count - T - 1), by Lemire's multiply-high reduction
        // (portable and stable across Swift versions, unlike `Int.random(in:using:)`'s algorithm).
        let startCount = UInt64(tokens.count - length)
        let starts = (0..<batchSize).map { _ in Int(generator.next().multipliedFullWidth(by: startCount).high) }
        return try TextDataset.batch(from: tokens, starts: Array(starts[rows]), length: length)
    }

    /// Advances past `count` batches without building them (a resumed run continues the same
    /// stream): each batch draws exactly `batchSize` numbers, so skipping costs B draws per batch.
    public mutating func skip(batches count: Int) {
        for _ in 0..<(Swift.max(0, count) * batchSize) { _ = generator.next() }
    }
}
