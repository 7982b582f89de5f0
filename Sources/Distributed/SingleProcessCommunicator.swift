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
    /// Always 0.
    public let rank = 0
    /// Always 1.
    public let size = 1
    /// Always 0.
    public let localRank = 0
    /// Nothing ever waits; the protocol's default value.
    public let timeout = Duration.seconds(60)
    /// "one process".
    public var summary: String { "one process" }

    /// The group of this process alone.
    public init() {}

    /// The values are already the sum.
    public func startAllReduce(_ values: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation,
                               label: String) throws -> CollectiveRequest {
        finished(label)
    }

    /// The values are already the sum.
    public func startAllReduce(_ values: UnsafeMutableBufferPointer<Double>, _ operation: ReduceOperation,
                               label: String) throws -> CollectiveRequest {
        finished(label)
    }

    /// The one block is all of `values`: copied.
    public func startReduceScatter(_ values: UnsafeBufferPointer<Float>, into block: UnsafeMutableBufferPointer<Float>,
                                   counts: [Int], label: String) throws -> CollectiveRequest {
        try CollectiveError.checkCounts(counts, size: 1, total: values.count, label: label)
        guard block.count == values.count else {
            throw CollectiveError(operation: label, reason: "the block holds \(block.count) elements, not \(values.count)")
        }
        if let source = values.baseAddress { block.baseAddress?.update(from: source, count: values.count) }
        return finished(label)
    }

    /// The one block is already in place.
    public func startAllGather(_ values: UnsafeMutableBufferPointer<Float>, counts: [Int],
                               label: String) throws -> CollectiveRequest {
        try CollectiveError.checkCounts(counts, size: 1, total: values.count, label: label)
        return finished(label)
    }

    /// Rank 0's bytes are already here.
    public func startBroadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int, label: String) throws -> CollectiveRequest {
        guard root == 0 else { throw CollectiveError(operation: label, reason: "root \(root) is not a rank of 1") }
        return finished(label)
    }

    /// Nobody to wait for.
    public func startBarrier(label: String) throws -> CollectiveRequest { finished(label) }

    /// Every collective completed when it started.
    @discardableResult
    public func wait(_ request: CollectiveRequest) throws -> ContinuousClock.Instant { request.started }

    /// Ends this process.
    public func abort(status: Int32) -> Never { exit(status) }

    /// Nothing to leave.
    public func finish() throws {}

    private func finished(_ label: String) -> CollectiveRequest {
        CollectiveRequest(id: 0, label: label, started: .now)
    }
}
