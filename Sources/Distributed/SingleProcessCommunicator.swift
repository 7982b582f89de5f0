// The group of one: every collective is the identity (an all-reduce leaves the values, a
// reduce-scatter copies the one block, an all-gather has nothing to fetch), so code written for N
// ranks runs unchanged, and as fast, in one process.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One process, rank 0 of 1.
public final class SingleProcessCommunicator: Communicator {
    public let rank = 0
    public let size = 1
    public let localRank = 0
    public let timeout = Duration.seconds(60)
    public var summary: String { "one process" }

    public init() {}

    public func startAllReduce(_ values: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation,
                               label: String) throws -> CollectiveRequest {
        finished(label)
    }

    public func startAllReduce(_ values: UnsafeMutableBufferPointer<Double>, _ operation: ReduceOperation,
                               label: String) throws -> CollectiveRequest {
        finished(label)
    }

    public func startReduceScatter(_ values: UnsafeBufferPointer<Float>, into block: UnsafeMutableBufferPointer<Float>,
                                   counts: [Int], label: String) throws -> CollectiveRequest {
        try CollectiveError.checkCounts(counts, size: 1, total: values.count, label: label)
        guard block.count == values.count else {
            throw CollectiveError(operation: label, reason: "the block holds \(block.count) elements, not \(values.count)")
        }
        if let source = values.baseAddress { block.baseAddress?.update(from: source, count: values.count) }
        return finished(label)
    }

    public func startAllGather(_ values: UnsafeMutableBufferPointer<Float>, counts: [Int],
                               label: String) throws -> CollectiveRequest {
        try CollectiveError.checkCounts(counts, size: 1, total: values.count, label: label)
        return finished(label)
    }

    public func startBroadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int, label: String) throws -> CollectiveRequest {
        guard root == 0 else { throw CollectiveError(operation: label, reason: "root \(root) is not a rank of 1") }
        return finished(label)
    }

    public func startBarrier(label: String) throws -> CollectiveRequest { finished(label) }

    @discardableResult
    public func wait(_ request: CollectiveRequest) throws -> ContinuousClock.Instant { request.started }

    public func abort(status: Int32) -> Never { exit(status) }

    public func finish() throws {}

    private func finished(_ label: String) -> CollectiveRequest {
        CollectiveRequest(id: 0, label: label, started: .now)
    }
}
