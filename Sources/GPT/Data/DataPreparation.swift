// `gpt prepare` as a library: turns text files into a prepared directory (PreparedDataset.swift) in
// two streaming passes, so memory stays bounded by the chunk size plus the vocabulary statistics:
//   1. read every file in chunks, hash it (SHA-256) and gather what the tokenizer is built from:
//      the character set (char) or the pre-tokenised piece counts (word, bpe; counted on all CPUs);
//      then build the tokenizer (the BPE trainer runs here). Or take a checkpoint's tokenizer
//      (`tokenizerDirectory`: its tokenizer.json and companion files, for fine-tuning);
//   2. read again and encode chunk by chunk into train.bin / val.bin. The last `validationFraction`
//      of the input bytes (cut at a character boundary) is the validation split; each file, and each
//      side of the cut, is encoded as its own stream. Each file is framed as the tokenizer's
//      `encode` frames a text (a Hub tokenizer's BOS before it, rarely an EOS after it).
// meta.json is written last: a directory with meta.json is complete.

import FoundationEssentials
import Tokenizers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `DataPreparation.prepare` reads and writes, and how.
public struct PreparationOptions: Sendable {
    /// UTF-8 text files, encoded in order as separate streams.
    public var inputs: [String]
    /// "char", "word" or "bpe".
    public var tokenizerKind: String
    /// Vocabulary size for word and bpe (nil: the kind's default).
    public var vocabularySize: Int?
    /// The fraction of the input bytes, at its end, held out for validation.
    public var validationFraction = 0.1
    /// The prepared directory to write.
    public var outputDirectory: String
    /// Bytes read per chunk.
    public var chunkBytes = 8 << 20
    /// Threads for counting pieces.
    public var threads = ProcessInfoCPU.count
    /// A directory (a checkpoint) whose tokenizer.json, with its companion files, encodes the data
    /// instead of a tokenizer built from it; `tokenizerKind` and `vocabularySize` then do not apply.
    public var tokenizerDirectory: String? = nil

    /// Options with the default chunk size and every CPU.
    public init(inputs: [String], tokenizerKind: String, vocabularySize: Int? = nil, validationFraction: Double = 0.1,
                outputDirectory: String) {
        self.inputs = inputs
        self.tokenizerKind = tokenizerKind
        self.vocabularySize = vocabularySize
        self.validationFraction = validationFraction
        self.outputDirectory = outputDirectory
    }
}

/// How far `DataPreparation.prepare` has come, for a progress display.
public struct PreparationProgress: Sendable {
    /// "reading", "training" or "encoding".
    public var phase: String
    /// Input bytes processed in this phase.
    public var bytesDone: Int
    /// Input bytes in all.
    public var bytesTotal: Int
}

/// Input `DataPreparation.prepare` cannot work with, in one line.
public struct PreparationError: Error, CustomStringConvertible, Equatable {
    public let description: String
    /// An error with this message.
    public init(_ description: String) { self.description = description }
}

/// Tokenizing text files into a prepared directory (`gpt prepare`).
public enum DataPreparation {
    /// The tokenizers `prepare` can build.
    public static let tokenizerKinds = ["char", "word", "bpe"]
    /// The vocabulary size of each kind that takes one, when none is given.
    public static let defaultVocabularySize = ["word": 32_000, "bpe": 32_000]

    /// Prepares `options.outputDirectory`; returns what meta.json records.
    @discardableResult
    public static func prepare(_ options: PreparationOptions,
                               progress: (PreparationProgress) -> Void = { _ in }) throws -> PreparedMetadata {
        let given = try options.tokenizerDirectory.map { try TokenizerFile.load(from: Checkpoint.normalized($0) + "/" + TokenizerFile.fileName) }
        if given != nil && options.vocabularySize != nil {
            throw PreparationError("a vocabulary size does not apply to a tokenizer taken from a checkpoint")
        }
        guard given != nil || tokenizerKinds.contains(options.tokenizerKind) else {
            throw PreparationError("unknown tokenizer '\(options.tokenizerKind)'; known: \(tokenizerKinds.joined(separator: ", "))")
        }
        guard !options.inputs.isEmpty else { throw PreparationError("no input files") }
        guard options.validationFraction > 0 && options.validationFraction < 1 else {
            throw PreparationError("validation fraction must be in (0, 1), got \(options.validationFraction)")
        }
        if options.tokenizerKind == "char" && options.vocabularySize != nil {
            throw PreparationError("the char tokenizer's vocabulary is the corpus's characters; --vocab-size does not apply")
        }
        var sizes: [Int] = []
        for path in options.inputs {
            // A regular file: it is read twice, and a pipe's or device's size says nothing.
            let descriptor = try FileIO.openRegularFile(path)
            defer { close(descriptor) }
            var info = stat()
            guard fstat(descriptor, &info) == 0 else { throw FileIO.systemError(path, "cannot read") }
            sizes.append(Int(info.st_size))
        }
        let totalBytes = sizes.reduce(0, +)
        guard totalBytes > 0 else {
            throw PreparationError("the input is empty (\(options.inputs.joined(separator: ", ")))")
        }
        let output = Checkpoint.normalized(options.outputDirectory)
        try prepareOutputDirectory(output)

        // Pass 1: hashes and the tokenizer.
        let (sources, tokenizer) = try buildTokenizer(options, given: given, sizes: sizes, totalBytes: totalBytes,
                                                      progress: progress)
        try TokenizerFile.save(tokenizer, intoDirectory: output)
        let framing = tokenizer.sequenceBoundaries

        // Pass 2: encode into train.bin and val.bin.
        let dtype = TokenDType.fitting(vocabularySize: tokenizer.vocabularySize)
        let train = try TokenFileWriter(path: output + "/" + PreparedMetadata.trainFileName, dtype: dtype)
        let validation = try TokenFileWriter(path: output + "/" + PreparedMetadata.validationFileName, dtype: dtype)
        let split = try characterBoundary(near: Int((Double(totalBytes) * (1 - options.validationFraction)).rounded()),
                                          inputs: options.inputs, sizes: sizes)
        var fileStart = 0, done = 0
        progress(PreparationProgress(phase: "encoding", bytesDone: 0, bytesTotal: totalBytes))
        for (path, size) in zip(options.inputs, sizes) {
            // The split point may fall before, inside or after this file: clamp it into the file.
            let cut = min(max(split, fileStart), fileStart + size)
            let parts = [(fileStart ..< cut, train), (cut ..< fileStart + size, validation)].filter { !$0.0.isEmpty }
            try parts.first?.1.append(framing.prepended)
            for (range, writer) in parts {
                let local = range.lowerBound - fileStart ..< range.upperBound - fileStart
                try readChunks(path: path, range: local, chunkBytes: options.chunkBytes) { chunk, isFinal, offset in
                    var tokens: [Int32] = []
                    let consumed: Int
                    do {
                        consumed = try tokenizer.encodeChunk(chunk, isFinal: isFinal, into: &tokens)
                    } catch let TokenizerError.invalidUTF8(position) {
                        throw FileError(path: path, reason: "not valid UTF-8 text (at byte \(offset + position))")
                    }
                    try writer.append(tokens)
                    done += consumed
                    progress(PreparationProgress(phase: "encoding", bytesDone: done, bytesTotal: totalBytes))
                    return consumed
                }
            }
            try parts.last?.1.append(framing.appended)
            fileStart += size
        }
        try train.finish()
        try validation.finish()

        let metadata = PreparedMetadata(
            tokenizer: tokenizer.kind, vocabSize: tokenizer.vocabularySize, dtype: dtype, trainTokens: train.count,
            validationTokens: validation.count, validationFraction: options.validationFraction, sources: sources)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileIO.writeDurably(try encoder.encode(metadata), to: output + "/" + PreparedMetadata.fileName)
        FileIO.syncDirectory(output)
        return metadata
    }

    /// The files a preparation writes: a directory holding nothing else is one, complete or not.
    static let preparedFiles: Set<String> = [PreparedMetadata.fileName, TokenizerFile.fileName,
                                             PreparedMetadata.trainFileName, PreparedMetadata.validationFileName]

    /// Creates `output`, or clears a previous preparation there (also one that was interrupted
    /// before writing meta.json); refuses any other non-empty directory.
    static func prepareOutputDirectory(_ output: String) throws {
        if FileManager.default.fileExists(atPath: output) {
            guard FileIO.isDirectory(output) else { throw FileError(path: output, reason: "exists and is not a directory") }
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []
            guard contents.contains(PreparedMetadata.fileName) || contents.allSatisfy(preparedFiles.contains) else {
                throw FileError(path: output, reason: "refusing to write into it: it is not empty and not a prepared data directory")
            }
            // Incomplete until meta.json is written again; a previous tokenizer's companion files
            // would otherwise change how the new one frames and ends sequences.
            for name in [PreparedMetadata.fileName] + TokenizerFile.companionFileNames {
                try? FileManager.default.removeItem(atPath: output + "/" + name)
            }
        } else {
            try FileIO.makeDirectory(output)
        }
    }

    /// Pass 1: each file's hash, and the tokenizer built from all of them (or `given`).
    static func buildTokenizer(_ options: PreparationOptions, given: (any Tokenizer)?, sizes: [Int], totalBytes: Int,
                               progress: (PreparationProgress) -> Void) throws -> ([PreparedMetadata.Source], any Tokenizer) {
        var sources: [PreparedMetadata.Source] = []
        var seen = [Bool](repeating: false, count: options.tokenizerKind == "char" ? 0x110000 : 0)
        var counts = PieceCounts()
        var done = 0
        progress(PreparationProgress(phase: "reading", bytesDone: 0, bytesTotal: totalBytes))
        for (path, size) in zip(options.inputs, sizes) {
            var hash = SHA256()
            var hashed = 0
            try readChunks(path: path, range: 0 ..< size, chunkBytes: options.chunkBytes) { chunk, isFinal, offset in
                // The chunk starts with the bytes left over from the last one; hash only the new ones.
                let fresh = offset + chunk.count - hashed
                hash.update(UnsafeBufferPointer(rebasing: chunk[(chunk.count - fresh)...]))
                hashed += fresh
                // One rule for every tokenizer: the input is UTF-8 text (byte-level BPE could encode
                // any bytes, but train and generate read text, and char refuses the same file).
                try checkUTF8(chunk, isFinal: isFinal, path: path, offset: offset)
                let consumed: Int
                if given != nil {
                    consumed = chunk.count
                } else if options.tokenizerKind == "char" {
                    consumed = try collectCharacters(chunk, isFinal: isFinal, into: &seen, path: path, offset: offset)
                } else {
                    consumed = countPieces(chunk, isFinal: isFinal, into: &counts, threads: options.threads)
                }
                done += consumed
                progress(PreparationProgress(phase: "reading", bytesDone: done, bytesTotal: totalBytes))
                return consumed
            }
            sources.append(PreparedMetadata.Source(path: path, bytes: size, sha256: hash.finalize()))
        }
        if let given { return (sources, given) }
        progress(PreparationProgress(phase: "training", bytesDone: totalBytes, bytesTotal: totalBytes))
        let vocabularySize = options.vocabularySize ?? defaultVocabularySize[options.tokenizerKind]
        let tokenizer: any Tokenizer
        switch options.tokenizerKind {
        case "char":
            tokenizer = try CharTokenizer(characters: seen.indices.filter { seen[$0] }.map { Unicode.Scalar(UInt32($0))! })
        case "word":
            tokenizer = try WordTokenizer(counts: counts, vocabularySize: vocabularySize)
        default:
            tokenizer = try BPETrainer.train(counts: counts, vocabularySize: vocabularySize ?? 32_000)
        }
        return (sources, tokenizer)
    }

    /// Throws naming the byte when `chunk`, up to its last whole character (all of it when final),
    /// is not UTF-8.
    static func checkUTF8(_ chunk: UnsafeBufferPointer<UInt8>, isFinal: Bool, path: String, offset: Int) throws {
        let end = isFinal ? chunk.count : UTF8Boundary.lastCharacterBoundary(in: chunk)
        if let position = UTF8Boundary.firstInvalidOffset(in: UnsafeBufferPointer(rebasing: chunk[..<end])) {
            throw FileError(path: path, reason: "not valid UTF-8 text (at byte \(offset + position))")
        }
    }

    /// Marks the characters of `chunk` (checked UTF-8) up to its last whole character.
    static func collectCharacters(_ chunk: UnsafeBufferPointer<UInt8>, isFinal: Bool, into seen: inout [Bool],
                                  path: String, offset: Int) throws -> Int {
        let end = isFinal ? chunk.count : UTF8Boundary.lastCharacterBoundary(in: chunk)
        let text = String(decoding: UnsafeBufferPointer(rebasing: chunk[..<end]), as: UTF8.self)
        for scalar in text.unicodeScalars { seen[Int(scalar.value)] = true }
        return end
    }

    /// Counts the pieces of a chunk: in parallel up to its last safe split point, or (when it has
    /// none) serially up to where the pre-tokenizer's pieces are final.
    static func countPieces(_ chunk: UnsafeBufferPointer<UInt8>, isFinal: Bool, into counts: inout PieceCounts,
                            threads: Int) -> Int {
        let end = isFinal ? chunk.count : PieceCounts.lastSafeSplit(chunk, before: chunk.count - 1,
                                                                    after: max(0, chunk.count - (1 << 20)))
        if let end {
            counts.merge(PieceCounts.count(UnsafeBufferPointer(rebasing: chunk[..<end]), threads: threads))
            return end
        }
        return PreTokenizer.forEachPiece(in: chunk, isFinal: false) { range in
            counts.add(UnsafeBufferPointer(rebasing: chunk[range]))
        }
    }

    /// `position` (a byte offset into the concatenated inputs) moved back to the start of the
    /// UTF-8 character it falls in.
    static func characterBoundary(near position: Int, inputs: [String], sizes: [Int]) throws -> Int {
        var fileStart = 0
        for (path, size) in zip(inputs, sizes) {
            defer { fileStart += size }
            guard position > fileStart && position < fileStart + size else { continue }
            guard let file = fopen(path, "rb") else { throw FileIO.systemError(path, "cannot open") }
            defer { fclose(file) }
            var local = position - fileStart
            while local > 0 {
                fseeko(file, off_t(local), SEEK_SET)
                let byte = fgetc(file)
                guard byte >= 0, byte & 0xC0 == 0x80 else { break }
                local -= 1
            }
            return fileStart + local
        }
        return position
    }

    /// Reads bytes `range` of `path` in chunks of about `chunkBytes`. `body` gets the unconsumed
    /// bytes so far (left over from the last call, then the new ones), whether they reach the end of
    /// the range, and their offset in the file; it returns how many it consumed (all when final).
    static func readChunks(path: String, range: Range<Int>, chunkBytes: Int,
                           _ body: (UnsafeBufferPointer<UInt8>, Bool, Int) throws -> Int) throws {
        guard let file = fopen(path, "rb") else { throw FileIO.systemError(path, "cannot open") }
        defer { fclose(file) }
        guard fseeko(file, off_t(range.lowerBound), SEEK_SET) == 0 else { throw FileIO.systemError(path, "cannot seek") }
        var buffer: [UInt8] = []
        var bufferOffset = range.lowerBound
        var remaining = range.count
        repeat {
            let want = min(chunkBytes, remaining)
            let old = buffer.count
            buffer += repeatElement(0, count: want)
            let got = buffer.withUnsafeMutableBytes { fread($0.baseAddress! + old, 1, want, file) }
            guard got == want else { throw FileError(path: path, reason: "cannot read: the file shrank while being read") }
            remaining -= want
            let isFinal = remaining == 0
            let consumed = try buffer.withUnsafeBufferPointer { try body($0, isFinal, bufferOffset) }
            precondition(!isFinal || consumed == buffer.count, "a final chunk must be consumed whole")
            buffer.removeFirst(consumed)
            bufferOffset += consumed
        } while remaining > 0
    }
}
