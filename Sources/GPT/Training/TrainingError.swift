// Why a training run cannot start or go on: one line each, naming what was wrong and, where a
// setting is the fix, which (in a run config's names; the CLI rewords those as flags).

/// A training run that cannot start or go on.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// The loss of `step` is not a number (NaN or infinite).
    case diverged(step: Int, loss: Float)
    /// The corpus was tokenized differently from the checkpoint being resumed.
    case tokenizerMismatch(corpus: String, kind: String, vocabularySize: Int,
                           checkpointKind: String, checkpointVocabularySize: Int)
    /// The config gives a vocabSize that the corpus's tokenizer does not have.
    case vocabularyMismatch(corpus: String, kind: String, dataSize: Int, configSize: Int)
    /// The corpus is not the data the resumed checkpoint was trained on (its fingerprint differs).
    case dataChanged(corpus: String, trainedOn: DataFingerprint, given: DataFingerprint)
    /// The checkpoint being resumed already reached the run's `maxSteps`.
    case alreadyFinished(checkpoint: String, step: Int, maxSteps: Int)
    /// A resumed run changes a setting other than maxSteps, backend or device, so it would not
    /// continue the run the checkpoint holds.
    case changedOnResume(key: String)
    /// The session is asked to stop at or before the step it starts from.
    case stopsBeforeStart(stopAfter: Int, step: Int)
    /// The output path exists and is a file.
    case outputIsNotADirectory(path: String)
    /// The output directory (or its best/) holds a file of a checkpoint file's name that no
    /// checkpoint save wrote: someone else's, which the first save would replace.
    case outputIsNotACheckpoint(path: String)
    /// The log path is one of the files the checkpoint writes or manages.
    case logIsACheckpointFile(path: String)
    /// The sample prompt encodes to no tokens.
    case emptySamplePrompt
    /// The sample prompt cannot be encoded (e.g. a character the tokenizer does not know).
    case unusableSamplePrompt(reason: String)
    /// Data-parallel ranks cannot split the global batch evenly.
    case batchNotDivisible(batch: Int, ranks: Int)
    /// A rank's run (settings, data, checkpoint or initial weights) differs from rank 0's.
    case ranksDisagree(rank: Int)

    public var description: String {
        switch self {
        case let .diverged(step, loss):
            return "training diverged at step \(step) (loss \(loss)); try a lower learningRate"
        case let .tokenizerMismatch(corpus, kind, size, checkpointKind, checkpointSize):
            return "\(corpus): its \(kind) tokenizer of \(size) tokens differs from the checkpoint's "
                + "(\(checkpointKind), \(checkpointSize)); resume with the data the run was trained on"
        case let .vocabularyMismatch(corpus, kind, dataSize, configSize):
            return "the config's vocabSize \(configSize) differs from the data's: \(corpus) has a \(kind) tokenizer of "
                + "\(dataSize) tokens; give vocabSize \(dataSize), or leave it out to take the data's"
        case let .dataChanged(corpus, trainedOn, given):
            return "\(corpus) is not the data the checkpoint was trained on (\(trainedOn.path): \(trainedOn.summary); "
                + "this is \(given.summary)), so the run would not continue exactly; resume with that data, "
                + "or allow different data to go on with this"
        case let .alreadyFinished(checkpoint, step, maxSteps):
            return "\(checkpoint): the run already finished step \(step) of \(maxSteps); "
                + "raise maxSteps to continue it"
        case let .changedOnResume(key):
            return "training.\(key) differs from the resumed checkpoint's; only maxSteps, backend and device may change"
        case let .stopsBeforeStart(stopAfter, step):
            return "stopping after step \(stopAfter) is not after the checkpoint's step \(step)"
        case let .outputIsNotADirectory(path):
            return "\(path): exists and is not a directory"
        case let .outputIsNotACheckpoint(path):
            return "\(path): holds files a checkpoint would replace but is not a checkpoint directory; "
                + "choose another output directory"
        case let .logIsACheckpointFile(path):
            return "\(path): the log cannot take the place of a file the checkpoint writes; choose another log path"
        case .emptySamplePrompt:
            return "sample prompt: must not be empty"
        case let .unusableSamplePrompt(reason):
            return "sample prompt: \(reason)"
        case let .batchNotDivisible(batch, ranks):
            return "training.batchSize \(batch) is the global batch and must be a multiple of the \(ranks) ranks"
        case let .ranksDisagree(rank):
            return "rank \(rank)'s run differs from rank 0's (settings, data, checkpoint or initial weights); "
                + "start every rank with the same command and files"
        }
    }
}
