// Combines one rank's gradients with the other ranks' during the backward pass, bucket by bucket
// (GradientBuckets.swift): when backward reports a bucket's last stage, its ranges are handed to
// non-blocking collectives (a device backend's first downloaded), and the trainer waits for all of
// them before clipping. Each rank's backward scales its loss by 1/N, so the sum over ranks is the
// gradient of the global batch's mean loss.
//
// Without sharding every range is all-reduced in place. With ZeRO-1 each range is split into N
// blocks (`Communicator.blockCounts`); a reduce-scatter leaves this rank its block of the sum, the
// optimizer updates only those blocks, and an all-gather of the parameters afterwards gives every
// rank every block again.

import Compute
import Distributed

final class GradientReducer {
    /// One range of a bucket and, with ZeRO-1, how it is split over the ranks.
    struct Part {
        let bucket: Int
        let range: Range<Int>
        /// Every rank's block size, rank order.
        let counts: [Int]
        /// This rank's block, in flat-buffer offsets.
        let own: Range<Int>
        /// Where the reduce-scatter leaves the own block in `received`.
        let receivedOffset: Int
    }

    let buckets: [GradientBucket]
    let parts: [Part]
    private let communicator: any Communicator
    private let model: GPTModel
    private let sharded: Bool
    private let gradients: HostStaging
    /// ZeRO-1: the parameters' host side (for the all-gather), and the own blocks of the sums.
    private let parameters: HostStaging?
    private let received: UnsafeMutableBufferPointer<Float>
    private let normResult: Buffer
    private var inFlight: [(part: Part, request: CollectiveRequest)] = []
    private var startedBuckets: Set<Int> = []
    private var intervals: [(start: ContinuousClock.Instant, end: ContinuousClock.Instant)] = []
    private(set) var stats = CommunicationStats()

    init(model: GPTModel, parallelism: DataParallelism) throws {
        self.model = model
        communicator = parallelism.communicator
        sharded = parallelism.shardsOptimizerState
        buckets = GradientBuckets.plan(model, bucketBytes: parallelism.bucketBytes)
        var parts: [Part] = [], offset = 0
        for bucket in buckets {
            for range in bucket.ranges {
                let counts = communicator.blockCounts(range.count)
                let start = range.lowerBound + counts[..<communicator.rank].reduce(0, +)
                parts.append(Part(bucket: bucket.index, range: range, counts: counts,
                                  own: start..<(start + counts[communicator.rank]), receivedOffset: offset))
                offset += counts[communicator.rank]
            }
        }
        self.parts = parts
        gradients = HostStaging(model.gradients, backend: model.backend)
        parameters = sharded ? HostStaging(model.parameters, backend: model.backend) : nil
        received = .allocate(capacity: sharded ? max(offset, 1) : 1)
        received.initialize(repeating: 0)
        normResult = try model.backend.allocate(1, .float32)
    }

    deinit { received.deallocate() }

    /// The ranges this rank's optimizer updates: its blocks with ZeRO-1 (sorted), else nil (all).
    var ownedRanges: [Range<Int>]? {
        sharded ? parts.map(\.own).filter { !$0.isEmpty }.sorted { $0.lowerBound < $1.lowerBound } : nil
    }

    /// Host memory beyond the model's buffers: staging copies of device buffers, received blocks.
    var hostBytes: Int { gradients.stagingBytes + (parameters?.stagingBytes ?? 0) + (sharded ? received.count * 4 : 0) }

    // MARK: - Gradients

    /// Backward's hook on the step's last micro-batch: starts the buckets `stage` completes.
    func stageFinished(_ stage: BackwardStage) throws {
        for bucket in buckets where bucket.readyAfter == stage { try start(bucket) }
    }

    /// Waits for every bucket (starting any backward did not report) and writes the combined
    /// gradients back: all of them, or with ZeRO-1 this rank's blocks.
    func finishGradients() throws {
        for bucket in buckets where !startedBuckets.contains(bucket.index) { try start(bucket) }
        for (part, request) in inFlight {
            try wait(request)
            if sharded {
                let block = UnsafeMutableBufferPointer(rebasing: received[part.receivedOffset..<(part.receivedOffset + part.own.count)])
                _ = gradients.elements(part.own).update(from: block)
                try gradients.push(part.own)
            } else {
                try gradients.push(part.range)
            }
        }
        inFlight = []
        startedBuckets = []
    }

    private func start(_ bucket: GradientBucket) throws {
        startedBuckets.insert(bucket.index)
        for part in parts where part.bucket == bucket.index {
            let values = try gradients.pull(part.range)
            let label = "\(sharded ? "reduce-scatter" : "all-reduce") of gradient bucket \(bucket.index + 1) of "
                + "\(buckets.count) (\(MemoryEstimate.format(bucket.count * 4)))"
            let request: CollectiveRequest
            if sharded {
                let block = UnsafeMutableBufferPointer(rebasing: received[part.receivedOffset..<(part.receivedOffset + part.own.count)])
                request = try communicator.startReduceScatter(UnsafeBufferPointer(values), into: block,
                                                              counts: part.counts, label: label)
            } else {
                request = try communicator.startAllReduce(values, .sum, label: label)
            }
            inFlight.append((part, request))
            count(bytes: part.range.count * 4)
        }
    }

    /// The global gradient norm's square: of the whole (identical) buffer, or with ZeRO-1 the
    /// sum over ranks of each rank's blocks.
    func squaredGradientNorm() throws -> Double {
        let backend = model.backend
        guard sharded else {
            try backend.squaredNorm(result: normResult.all, input: model.gradients.all)
            return Double(try backend.download(normResult.all)[0])
        }
        var local = 0.0
        for part in parts where !part.own.isEmpty {
            try backend.squaredNorm(result: normResult.all, input: model.gradients.view(offset: part.own.lowerBound,
                                                                                        count: part.own.count))
            local += Double(try backend.download(normResult.all)[0])
        }
        return try allReduce([local], label: "all-reduce of the squared gradient norm")[0]
    }

    // MARK: - ZeRO-1 parameters and moments

    /// After the optimizer updated this rank's blocks: every rank's blocks to every rank.
    func gatherParameters() throws {
        guard let parameters else { return }
        var requests: [CollectiveRequest] = []
        for part in parts {
            _ = try parameters.pull(part.own)
            requests.append(try communicator.startAllGather(parameters.elements(part.range), counts: part.counts,
                                                            label: "all-gather of parameter bucket \(part.bucket + 1) "
                                                                + "of \(buckets.count)"))
            count(bytes: part.range.count * 4)
        }
        for (part, request) in zip(parts, requests) {
            try wait(request)
            try parameters.push(part.range)
        }
    }

    /// A sharded optimizer moment (`owned`-packed, as AdamW keeps it) as the whole buffer's: every
    /// rank's blocks gathered, zero outside the trainable ranges (as an unsharded one has it).
    func gatherMoment(_ packed: [Float], owned: [Range<Int>]) throws -> [Float] {
        var full = [Float](repeating: 0, count: model.layout.count)
        var position = 0
        for range in owned {
            full.replaceSubrange(range, with: packed[position..<(position + range.count)])
            position += range.count
        }
        try full.withUnsafeMutableBufferPointer { all in
            let requests = try parts.map { part in
                try communicator.startAllGather(UnsafeMutableBufferPointer(rebasing: all[part.range]),
                                                counts: part.counts, label: "all-gather of AdamW's moments")
            }
            for request in requests { try communicator.wait(request) }
        }
        return full
    }

    // MARK: - Small reductions and accounting

    /// Sums a few values over the ranks, counted as this step's communication.
    func allReduce(_ values: [Double], label: String) throws -> [Double] {
        var result = values
        try result.withUnsafeMutableBufferPointer { buffer in
            try wait(try communicator.startAllReduce(buffer, .sum, label: label))
        }
        count(bytes: values.count * 8)
        return result
    }

    /// Closes a step's accounting: the in-flight time is the union of its collectives' intervals.
    func endStep() {
        stats.inFlightSeconds += CommunicationStats.covered(intervals)
        stats.steps += 1
        intervals = []
    }

    /// Starts counting afresh (after warm-up steps).
    func resetStats() { stats = CommunicationStats() }

    private func wait(_ request: CollectiveRequest) throws {
        let before = ContinuousClock.now
        let finished = try communicator.wait(request)
        let after = ContinuousClock.now
        stats.waitedSeconds += seconds(after - before)
        intervals.append((request.started, max(finished, request.started)))
    }

    private func count(bytes: Int) {
        stats.collectives += 1
        stats.bytes += Double(bytes)
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}
