// Resumable training checkpoints: besides the model files (Checkpoint.swift) a training checkpoint
// holds what `gpt train --resume` needs to continue exactly where the run stopped:
//   run.json               the effective run config (model + training sections, RunConfig)
//   optimizer.safetensors  AdamW's two moments, flat: "exp_avg" (m) and "exp_avg_sq" (v), [P] each
//   training_state.json    step, training batches drawn so far, best validation loss, elapsed time
// Random state needs no file: batches come from SplitMix64(seed) advanced past the batches drawn,
// dropout masks from (seed, step, micro-batch), so step and batch count restore both exactly.

import Compute
import FoundationEssentials
import Tokenizers

/// Where a training run stands after `step` optimizer steps.
public struct TrainingState: Codable, Equatable, Sendable {
    /// The file's name in a training checkpoint.
    public static let fileName = "training_state.json"
    /// The format version this code writes and reads.
    public static let currentVersion = 1

    /// The version the file was written with.
    public var formatVersion = TrainingState.currentVersion
    /// Optimizer steps completed.
    public var step: Int
    /// Training (micro-)batches drawn from the random batch stream: step * gradient accumulation.
    public var batchesConsumed: Int
    /// Lowest validation loss seen so far (nil before the first evaluation).
    public var bestValidationLoss: Float?
    /// Wall-clock seconds spent so far, so elapsed times in a resumed log keep counting.
    public var elapsedSeconds: Double
    /// The data the run trains on (nil in checkpoints of earlier versions, and for a corpus of
    /// unknown origin).
    public var data: DataFingerprint?

    /// A run that has taken `step` optimizer steps.
    public init(step: Int, batchesConsumed: Int, bestValidationLoss: Float?, elapsedSeconds: Double,
                data: DataFingerprint? = nil) {
        self.step = step
        self.batchesConsumed = batchesConsumed
        self.bestValidationLoss = bestValidationLoss
        self.elapsedSeconds = elapsedSeconds
        self.data = data
    }
}

/// Everything a resumed run starts from.
public struct ResumePoint {
    /// The model with the checkpoint's parameters, on the backend it was loaded onto.
    public let model: GPTModel
    /// The tokenizer the run trains with.
    public let tokenizer: any Tokenizer
    /// The run config the checkpoint was trained with (run.json).
    public let run: RunConfig
    /// Where the run stands.
    public let state: TrainingState
    /// AdamW's moments m and v, `model.layout.count` floats each.
    public let firstMoment: [Float]
    /// AdamW's second moment v, laid out like `firstMoment`.
    public let secondMoment: [Float]
}

extension Checkpoint {
    /// The effective run config, in a training checkpoint and in best/.
    public static let runConfigFileName = "run.json"
    /// AdamW's moments, in a training checkpoint.
    public static let optimizerFileName = "optimizer.safetensors"

    /// The files a training checkpoint adds to the model files (for `save(extraFiles:)`). With a
    /// ZeRO-1 trainer this gathers the moments from every rank: every rank must call it together.
    public static func trainingFiles(trainer: Trainer, run: RunConfig, state: TrainingState) throws
        -> [(name: String, data: Data)]
    {
        try trainingFiles(moments: trainer.optimizerMoments(), run: run, state: state)
    }

    /// The training files for AdamW `moments` laid out like the parameters (`Trainer.optimizerMoments`).
    public static func trainingFiles(moments: (first: [Float], second: [Float]), run: RunConfig,
                                     state: TrainingState) throws -> [(name: String, data: Data)] {
        let (m, v) = moments
        let moments = try SafeTensors.encode([NamedTensor(name: "exp_avg", shape: [m.count], values: m),
                                              NamedTensor(name: "exp_avg_sq", shape: [v.count], values: v)],
                                             metadata: ["format": "pt", "step": "\(state.step)"])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return [(runConfigFileName, try run.encoded()), (optimizerFileName, moments),
                (TrainingState.fileName, try encoder.encode(state))]
    }

    /// The training state file of the checkpoint in `directory`: where the run stands and what it
    /// trains on (for a resume that is not told the data).
    public static func readTrainingState(from directory: String) throws -> TrainingState {
        let path = filePath(TrainingState.fileName, in: directory)
        let state: TrainingState
        do {
            state = try FileIO.decodeJSON(TrainingState.self, from: path)
        } catch let error as FileError {
            throw CheckpointError(path: error.path, reason: error.reason)
        }
        guard state.formatVersion == TrainingState.currentVersion else {
            throw CheckpointError(path: path, reason: "format version \(state.formatVersion) is not supported "
                                  + "(expected \(TrainingState.currentVersion))")
        }
        return state
    }

    /// Whether `directory` holds a training checkpoint (one `--resume` accepts).
    public static func isResumable(_ directory: String) -> Bool {
        let root = normalized(directory)
        return [runConfigFileName, optimizerFileName, TrainingState.fileName].allSatisfy {
            FileManager.default.fileExists(atPath: filePath($0, in: root))
        }
    }

    /// Loads a training checkpoint onto `backend`; any missing or inconsistent file is a one-line
    /// error. `beforeAllocating` is called as `load` calls it.
    public static func loadTraining(from directory: String, backend: any Backend,
                                    beforeAllocating: (ModelConfig) throws -> Void = { _ in }) throws -> ResumePoint {
        let root = normalized(directory)
        let (model, tokenizer) = try load(from: root, backend: backend, beforeAllocating: beforeAllocating)
        for name in [runConfigFileName, optimizerFileName, TrainingState.fileName]
        where !FileManager.default.fileExists(atPath: filePath(name, in: root)) {
            throw CheckpointError(path: root, reason: "no \(name): not a training checkpoint (cannot resume from it)")
        }
        let run: RunConfig
        do {
            run = try RunConfig.load(path: filePath(runConfigFileName, in: root))
        } catch let error as RunConfigError {
            throw CheckpointError(path: root, reason: error.description)
        }
        guard run.model == model.config else {
            throw CheckpointError(path: root, reason: "\(runConfigFileName)'s model section does not match \(configFileName)")
        }
        let statePath = filePath(TrainingState.fileName, in: root)
        let state = try readTrainingState(from: root)
        guard (0...CheckedSize.countLimit).contains(state.step), state.batchesConsumed >= 0 else {
            throw CheckpointError(path: statePath, reason: "step must be in 0...\(CheckedSize.countLimit) and "
                                  + "batchesConsumed at least 0, got \(state.step) and \(state.batchesConsumed)")
        }
        // Resuming skips batchesConsumed batches of the stream: a count the run could not have drawn
        // would be a wrong position (or an endless skip).
        guard state.batchesConsumed == state.step * run.training.gradientAccumulation else {
            throw CheckpointError(path: statePath, reason: "batchesConsumed \(state.batchesConsumed) is not step "
                                  + "\(state.step) x gradientAccumulation \(run.training.gradientAccumulation)")
        }
        guard state.elapsedSeconds.isFinite, state.elapsedSeconds >= 0 else {
            throw CheckpointError(path: statePath, reason: "elapsedSeconds must be a number of at least 0, got \(state.elapsedSeconds)")
        }
        let optimizerPath = filePath(optimizerFileName, in: root)
        let tensors = try SafeTensors.read(optimizerPath)
        func moment(_ name: String) throws -> [Float] {
            guard let tensor = tensors.first(where: { $0.name == name }) else {
                throw CheckpointError(path: optimizerPath, reason: "no tensor '\(name)'")
            }
            guard tensor.values.count == model.layout.count else {
                throw CheckpointError(path: optimizerPath, reason: "'\(name)' holds \(tensor.values.count) values, "
                                      + "the model has \(model.layout.count) parameters")
            }
            // Moments are finite, and the second one (a running mean of squares) never negative.
            if let bad = tensor.values.firstIndex(where: { !$0.isFinite || name == "exp_avg_sq" && $0 < 0 }) {
                throw CheckpointError(path: optimizerPath, reason: "'\(name)' holds \(tensor.values[bad]) at element \(bad)")
            }
            return tensor.values
        }
        return ResumePoint(model: model, tokenizer: tokenizer, run: run, state: state,
                           firstMoment: try moment("exp_avg"), secondMoment: try moment("exp_avg_sq"))
    }
}
