// The training log: one CSV row per optimizer step (validation loss only on evaluation steps), so a
// run can be plotted (`gpt plot`), compared and resumed; appends flush line by line.

import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One optimizer step in the CSV log.
public struct TrainingLogRow: Equatable, Sendable {
    /// 1-based step number.
    public var step: Int
    /// The step's training loss (mean over its micro-batches).
    public var trainLoss: Float
    /// nil on steps without an evaluation.
    public var validationLoss: Float?
    /// The step's learning rate.
    public var learningRate: Float
    /// The global gradient norm before clipping.
    public var gradientNorm: Float
    /// Tokens per second of the step alone.
    public var tokensPerSecond: Double
    /// Wall-clock seconds since the run began, across resumes.
    public var elapsedSeconds: Double

    /// A row.
    public init(step: Int, trainLoss: Float, validationLoss: Float?, learningRate: Float, gradientNorm: Float,
                tokensPerSecond: Double, elapsedSeconds: Double) {
        self.step = step
        self.trainLoss = trainLoss
        self.validationLoss = validationLoss
        self.learningRate = learningRate
        self.gradientNorm = gradientNorm
        self.tokensPerSecond = tokensPerSecond
        self.elapsedSeconds = elapsedSeconds
    }
}

/// A log that cannot be read or written, in one line.
public struct TrainingLogError: Error, CustomStringConvertible, Equatable {
    public let description: String

    /// An error with this message.
    public init(description: String) { self.description = description }
}

/// The CSV training log: its format, a parser and an appending writer.
public enum TrainingLog {
    /// The first line of every log.
    public static let header = "step,train_loss,val_loss,lr,grad_norm,tok_per_s,elapsed_s"

    /// `row` as a CSV line (no newline).
    public static func line(_ row: TrainingLogRow) -> String {
        let validation = row.validationLoss.map { "\($0)" } ?? ""
        return "\(row.step),\(row.trainLoss),\(validation),\(row.learningRate),\(row.gradientNorm),"
            + "\(row.tokensPerSecond),\(row.elapsedSeconds)"
    }

    /// Parses a log written by `Writer` (also after a trip through Windows: "\r\n" line ends); a
    /// malformed line is a one-line error naming its number.
    public static func parse(_ text: String, path: String = "log") throws -> [TrainingLogRow] {
        // Split on "\n" as bytes: Swift treats "\r\n" as one Character, which "\n" does not match.
        // A byte-order mark (an editor's) is not part of the header.
        let body = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        var lines = body.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).map { line in
            String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line, as: UTF8.self)
        }.filter { !$0.isEmpty }
        guard let first = lines.first, first == header else {
            throw TrainingLogError(description: "\(path): not a training log (expected the header '\(header)')")
        }
        lines.removeFirst()
        return try lines.enumerated().map { index, line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            func fail() -> TrainingLogError {
                TrainingLogError(description: "\(path): line \(index + 2) is malformed: '\(line)'")
            }
            guard fields.count == 7, let step = Int(fields[0]), let train = Float(fields[1]),
                  let lr = Float(fields[3]), let norm = Float(fields[4]), let rate = Double(fields[5]),
                  let elapsed = Double(fields[6]) else { throw fail() }
            var validation: Float?
            if !fields[2].isEmpty {
                guard let value = Float(fields[2]) else { throw fail() }
                validation = value
            }
            return TrainingLogRow(step: step, trainLoss: train, validationLoss: validation, learningRate: lr,
                                  gradientNorm: norm, tokensPerSecond: rate, elapsedSeconds: elapsed)
        }
    }

    /// Appends rows to a CSV file, writing the header when the file is new or empty. Rows after
    /// `resumeStep` are dropped first, so a resumed run does not duplicate steps.
    public final class Writer {
        private let file: UnsafeMutablePointer<FILE>
        private let path: String

        /// Opens `path`; with `resumeStep`, keeps the rows up to that step of the log already there.
        public init(path: String, resumeStep: Int? = nil) throws {
            var keep: [TrainingLogRow] = []
            if let resumeStep, let data = FileManager.default.contents(atPath: path), !data.isEmpty {
                keep = try TrainingLog.parse(String(decoding: data, as: UTF8.self), path: path)
                    .filter { $0.step <= resumeStep }
            }
            guard let file = fopen(path, "w") else {
                throw TrainingLogError(description: "\(path): cannot open for writing (\(String(cString: strerror(errno))))")
            }
            self.file = file
            self.path = path
            try write(([TrainingLog.header] + keep.map(TrainingLog.line)).joined(separator: "\n") + "\n")
        }

        /// Writes `row` and flushes it, so the log is complete up to the last step if the run dies.
        /// A row that cannot be written (a full disk) is an error, not a silent gap.
        public func append(_ row: TrainingLogRow) throws {
            try write(TrainingLog.line(row) + "\n")
        }

        private func write(_ text: String) throws {
            guard fputs(text, file) >= 0, fflush(file) == 0 else {
                throw TrainingLogError(description: "\(path): cannot write the log: \(String(cString: strerror(errno)))")
            }
        }

        deinit { fclose(file) }
    }
}
