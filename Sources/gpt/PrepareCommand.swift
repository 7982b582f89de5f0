// `gpt prepare`: tokenize text files into a prepared data directory (train.bin, val.bin,
// tokenizer.json, meta.json) that `gpt train --data DIR` reads window by window. Streams its input,
// so corpora larger than memory work; shows progress per phase (reading, training the tokenizer,
// encoding). With --tokenizer-from DIR the tokenizer is a checkpoint's (for `gpt train --init-from DIR`).

import GPT

struct PrepareOptions: OptionGroup {
    let inputs = Option(list: "input", .files, required: true, help: "UTF-8 text files, in order (also comma-separated)",
                        combine: +)
    let tokenizer = Option("tokenizer", Choice.names(DataPreparation.tokenizerKinds), default: "bpe",
                           help: "tokenizer to build")
    let vocabularySize = Option("vocab-size", .integer(atLeast: 2),
                                documentedDefault: "\(DataPreparation.defaultVocabularySize["bpe"] ?? 0)",
                                help: "vocabulary size for word and bpe")
    let validationFraction = Option("val-fraction", .fraction, default: 0.1,
                                    help: "fraction of the input (its end) held out for validation")
    let tokenizerFrom = CommonOptions.tokenizerFrom()
    let out = Option("out", .path("DIR"), required: true, help: "directory to write")
    let threads = CommonOptions.threads()

    var all: [any AnyOption] { [inputs, tokenizer, vocabularySize, tokenizerFrom, validationFraction, out, threads] }
}

let prepareCommand = Command("prepare", summary: "tokenize text files into a prepared data directory for training",
                             options: PrepareOptions.self) { options in
    let kind = options.tokenizer.value
    if kind == "char" && options.vocabularySize.wasGiven {
        throw UsageError(command: "prepare", message: "--vocab-size does not apply to the char tokenizer")
    }
    let building: [any AnyOption] = [options.tokenizer, options.vocabularySize]
    if options.tokenizerFrom.wasGiven, let other = building.first(where: \.wasGiven) {
        throw UsageError(command: "prepare", message: "--\(other.name) does not apply with --tokenizer-from "
                         + "(the checkpoint's tokenizer is used as it is)")
    }
    var preparation = PreparationOptions(inputs: options.inputs.value, tokenizerKind: kind,
                                         vocabularySize: options.vocabularySize.given,
                                         validationFraction: options.validationFraction.value,
                                         outputDirectory: options.out.value)
    if let threads = options.threads.given { preparation.threads = threads }
    preparation.tokenizerDirectory = options.tokenizerFrom.given

    let start = ContinuousClock.now
    let progress = PreparationProgressLine(tokenizerKind: options.tokenizerFrom.wasGiven ? "checkpoint's" : kind)
    let dataset = try DataPreparation.prepare(preparation) { progress.show($0) }
    let phaseTimes = progress.finish()
    let requested = options.vocabularySize.given
    let short = requested.map { dataset.vocabSize < $0 } ?? false
    print("prepared \(preparation.outputDirectory): \(dataset.tokenizer) tokenizer"
          + (options.tokenizerFrom.given.map { " from \($0)" } ?? "") + ", vocabulary \(dataset.vocabSize)"
          + (short ? " (fewer than the \(requested ?? 0) asked for: the corpus has no more to merge)" : "") + ", "
          + "\(Format.grouped(dataset.trainTokens)) train + \(Format.grouped(dataset.validationTokens)) validation tokens "
          + "(\(dataset.dtype.rawValue)) from \(Format.megabytes(dataset.sources.map(\.bytes).reduce(0, +))) "
          + "in \(Format.duration(seconds(since: start))) (\(phaseTimes.joined(separator: ", ")))")
}

/// Progress of `gpt prepare` per phase (reading, training the tokenizer, encoding): redrawn on a
/// terminal, a line per tenth in a log; and how long each phase took.
private final class PreparationProgressLine {
    let tokenizerKind: String
    private var phase = "", phaseStart = ContinuousClock.now, lastDecile = -1
    private var phaseTimes: [String] = []

    init(tokenizerKind: String) { self.tokenizerKind = tokenizerKind }

    func show(_ update: PreparationProgress) {
        if update.phase != phase { begin(update.phase) }
        guard update.phase != "training" else {
            if Console.stdoutIsTerminal { Console.redraw("training the \(tokenizerKind) tokenizer...") }
            return
        }
        let elapsed = seconds(since: phaseStart)
        let fraction = Double(update.bytesDone) / Double(max(1, update.bytesTotal))
        let rate = Double(update.bytesDone) / max(elapsed, 1e-9)
        // No rate before the first bytes, so no ETA either (it would be the byte count in seconds).
        let eta = update.bytesDone > 0 ? Format.duration(Double(update.bytesTotal - update.bytesDone) / rate) : "--"
        let line = "\(phase) \(Format.fixed(100 * fraction, 1))% of \(Format.megabytes(update.bytesTotal)) "
            + "| \(Format.fixed(rate / 1e6, 1)) MB/s | ETA \(eta)"
        if Console.stdoutIsTerminal {
            Console.redraw(line)
        } else if Int(fraction * 10) > lastDecile {
            lastDecile = Int(fraction * 10)
            print(line)
        }
    }

    private func begin(_ next: String) {
        if !phase.isEmpty { phaseTimes.append("\(phase) \(Format.duration(seconds(since: phaseStart)))") }
        if Console.stdoutIsTerminal { Console.clearLine() }
        phase = next
        phaseStart = .now
        lastDecile = -1
        if !Console.stdoutIsTerminal { print("\(phase)...") }
    }

    /// Ends the last phase; how long each took.
    func finish() -> [String] {
        if !phase.isEmpty { phaseTimes.append("\(phase) \(Format.duration(seconds(since: phaseStart)))") }
        if Console.stdoutIsTerminal { Console.clearLine() }
        return phaseTimes
    }
}

extension Format {
    /// 4804136 -> "4.8 MB".
    static func megabytes(_ bytes: Int) -> String {
        bytes >= 1_000_000 ? fixed(Double(bytes) / 1e6, 1) + " MB" : fixed(Double(bytes) / 1e3, 1) + " KB"
    }
}
