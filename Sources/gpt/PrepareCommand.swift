// `gpt prepare`: tokenize text files into a prepared data directory (train.bin, val.bin,
// tokenizer.json, meta.json) that `gpt train --data DIR` memory-maps. Streams its input, so corpora
// larger than memory work; shows progress per phase (reading, training the tokenizer, encoding).

import GPT

let prepareCommand = Command(
    name: "prepare",
    summary: "tokenize text files into a prepared data directory for training",
    flags: [
        Flag(name: "input", placeholder: "FILE...", defaultValue: nil,
             help: "UTF-8 text files, in order (also comma-separated)", required: true, isList: true),
        Flag(name: "tokenizer", placeholder: "char|word|bpe", defaultValue: "bpe", help: "tokenizer to build"),
        Flag(name: "vocab-size", placeholder: "N", defaultValue: nil,
             help: "vocabulary size for word and bpe (default: 32000)"),
        Flag(name: "val-fraction", placeholder: "F", defaultValue: "0.1",
             help: "fraction of the input (its end) held out for validation"),
        Flag(name: "out", placeholder: "DIR", defaultValue: nil, help: "directory to write", required: true),
        Flag(name: "threads", placeholder: "N", defaultValue: nil, help: "threads for counting (default: all CPUs)"),
    ]
) { arguments in
    let inputs = arguments.strings("input").flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
        .map(String.init)
    guard !inputs.contains(where: \.isEmpty) else {
        throw UsageError(command: "prepare", message: "--input has an empty file name")
    }
    let kind = arguments.string("tokenizer")!
    guard DataPreparation.tokenizerKinds.contains(kind) else {
        throw UsageError(command: "prepare", message: "--tokenizer must be one of \(DataPreparation.tokenizerKinds.joined(separator: ", ")), got '\(kind)'")
    }
    let vocabularySize = try arguments.int("vocab-size", atLeast: 2)
    if kind == "char" && vocabularySize != nil {
        throw UsageError(command: "prepare", message: "--vocab-size does not apply to the char tokenizer")
    }
    _ = try arguments.float("val-fraction", atLeast: 0, below: 1)  // the usage errors; the value as a Double:
    let fraction = Double(arguments.string("val-fraction")!)!
    guard fraction > 0 else { throw UsageError(command: "prepare", message: "--val-fraction must be above 0, got 0") }
    var options = PreparationOptions(inputs: inputs, tokenizerKind: kind, vocabularySize: vocabularySize,
                                     validationFraction: fraction, outputDirectory: arguments.string("out")!)
    if let threads = try arguments.int("threads", atLeast: 1) { options.threads = threads }

    let start = ContinuousClock.now
    var phase = "", phaseStart = start, lastDecile = -1
    var phaseTimes: [String] = []
    let dataset = try DataPreparation.prepare(options) { update in
        if update.phase != phase {
            if !phase.isEmpty { phaseTimes.append("\(phase) \(Format.duration(seconds(since: phaseStart)))") }
            if Console.stdoutIsTerminal { Console.clearLine() }
            phase = update.phase
            phaseStart = .now
            lastDecile = -1
            if !Console.stdoutIsTerminal { print("\(phase)...") }
        }
        guard update.phase != "training" else {
            if Console.stdoutIsTerminal { Console.redraw("training the \(kind) tokenizer...") }
            return
        }
        let elapsed = seconds(since: phaseStart)
        let fraction = Double(update.bytesDone) / Double(max(1, update.bytesTotal))
        let rate = Double(update.bytesDone) / max(elapsed, 1e-9)
        let line = "\(phase) \(Format.fixed(100 * fraction, 1))% of \(Format.megabytes(update.bytesTotal)) "
            + "| \(Format.fixed(rate / 1e6, 1)) MB/s | ETA \(Format.duration(Double(update.bytesTotal - update.bytesDone) / max(rate, 1)))"
        if Console.stdoutIsTerminal {
            Console.redraw(line)
        } else if Int(fraction * 10) > lastDecile {
            lastDecile = Int(fraction * 10)
            print(line)
        }
    }
    if !phase.isEmpty { phaseTimes.append("\(phase) \(Format.duration(seconds(since: phaseStart)))") }
    if Console.stdoutIsTerminal { Console.clearLine() }
    let short = vocabularySize.map { dataset.vocabSize < $0 } ?? false
    print("prepared \(options.outputDirectory): \(dataset.tokenizer) tokenizer, vocabulary \(dataset.vocabSize)"
          + (short ? " (fewer than the \(vocabularySize!) asked for: the corpus has no more to merge)" : "") + ", "
          + "\(Format.grouped(dataset.trainTokens)) train + \(Format.grouped(dataset.validationTokens)) validation tokens "
          + "(\(dataset.dtype.rawValue)) from \(Format.megabytes(dataset.sources.map(\.bytes).reduce(0, +))) "
          + "in \(Format.duration(seconds(since: start))) (\(phaseTimes.joined(separator: ", ")))")
}

extension Format {
    /// 4804136 -> "4.8 MB".
    static func megabytes(_ bytes: Int) -> String {
        bytes >= 1_000_000 ? fixed(Double(bytes) / 1e6, 1) + " MB" : fixed(Double(bytes) / 1e3, 1) + " KB"
    }
}
