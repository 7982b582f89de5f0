// Data parallelism: N ranks (processes) train one model together, each on its part of every
// step's global batch, and combine their gradients before the optimizer step, so that the run
// equals one process training on the whole batch (same seed, same batches, same dropout masks, up
// to the order of floating-point sums).
//
// `batchSize` stays the global micro-batch; rank r runs sequences r·B/N ..< (r+1)·B/N of each,
// which it takes from the shared random batch stream (every rank draws the same window starts and
// reads only its own windows). Gradients are summed over ranks by bucket while the backward pass
// runs (GradientReducer.swift); with `shardsOptimizerState` (ZeRO stage 1) each rank keeps AdamW
// moments for its block of every bucket only, receives the summed gradients of that block
// (reduce-scatter), updates it and shares the result (all-gather).

import Distributed

/// How a training run spreads over the ranks of a communicator.
public struct DataParallelism: Sendable {
    /// The default gradient bucket: large enough that a collective's latency is small next to its
    /// transfer, small enough that the first bucket starts early in the backward pass.
    public static let defaultBucketBytes = 2 << 20

    /// The ranks; one process for `SingleProcessCommunicator`.
    public let communicator: any Communicator
    /// ZeRO stage 1: AdamW moments sharded over the ranks.
    public var shardsOptimizerState: Bool
    /// Bytes of gradients per bucket (at least; a bucket holds whole backward stages).
    public var bucketBytes: Int

    /// Training over `communicator`'s ranks; buckets of at least 4 bytes.
    public init(communicator: any Communicator, shardsOptimizerState: Bool = false,
                bucketBytes: Int = DataParallelism.defaultBucketBytes) {
        self.communicator = communicator
        self.shardsOptimizerState = shardsOptimizerState
        self.bucketBytes = max(bucketBytes, 4)
    }

    /// One process: nothing to combine.
    public static var singleProcess: DataParallelism { DataParallelism(communicator: SingleProcessCommunicator()) }

    /// Ranks in the group.
    public var size: Int { communicator.size }
    /// This process's rank; rank 0 prints and writes.
    public var rank: Int { communicator.rank }
    /// Whether this rank writes logs, samples and checkpoints.
    public var isWriter: Bool { rank == 0 }
    /// Whether there is anything to combine.
    var isDistributed: Bool { size > 1 }

    /// The sequences of a global batch of `batch` this rank runs.
    public func rows(ofBatch batch: Int) -> Range<Int> {
        let share = batch / size
        return (rank * share)..<((rank + 1) * share)
    }

    /// Throws unless the ranks split a global batch of `batch` sequences evenly.
    public func check(batch: Int) throws {
        guard batch % size == 0 else { throw TrainingError.batchNotDivisible(batch: batch, ranks: size) }
    }
}
