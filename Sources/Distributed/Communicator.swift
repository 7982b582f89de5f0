// The collectives data-parallel training needs, behind one small protocol: every rank (process) of
// a group calls the same collectives in the same order, each on its own host memory. A collective
// is started, may run while the caller computes (a gradient bucket's all-reduce during the rest of
// the backward pass), and is finished by `wait`, which gives up after the communicator's timeout
// (the MPI implementation then ends every rank with one line naming the late one). Blocking forms
// are `wait(start...)`. Two implementations: `SingleProcessCommunicator` (one rank; every
// collective is the identity) and, in the MPICommunicator target, Open MPI loaded at run time.

/// How a reduction combines the ranks' values, element by element.
public enum ReduceOperation: Sendable {
    /// Element-wise sum.
    case sum
    /// Element-wise maximum.
    case max
}

/// A collective in flight, as `wait` takes it.
public struct CollectiveRequest: Sendable {
    /// Identifies it to the communicator that started it.
    public let id: Int
    /// What it is, for messages: "all-reduce of gradient bucket 2 (1.5 MiB)".
    public let label: String
    /// When this rank started it.
    public let started: ContinuousClock.Instant

    /// A request as a communicator records it.
    public init(id: Int, label: String, started: ContinuousClock.Instant) {
        self.id = id
        self.label = label
        self.started = started
    }
}

/// A group of `size` ranks that run collectives together; this process is `rank`.
///
/// Memory handed to a `start...` call must stay valid, and must not be touched, until `wait` has
/// returned for it. Counts are per rank and must agree on every rank.
public protocol Communicator: AnyObject, Sendable {
    /// This process, 0 ..< size. Rank 0 is the one that prints and writes.
    var rank: Int { get }
    /// Processes in the group.
    var size: Int { get }
    /// The rank's index among the ranks on its own machine (which device it takes).
    var localRank: Int { get }
    /// How long a collective may take before the run is ended.
    var timeout: Duration { get }
    /// One line for a run's header: "Open MPI v4.1.4, 2 ranks, collective timeout 60 s".
    var summary: String { get }

    /// Combines `values` over the ranks, in place.
    func startAllReduce(_ values: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation,
                        label: String) throws -> CollectiveRequest
    /// Combines `values` over the ranks, in place (losses and flags: a few values, in Double).
    func startAllReduce(_ values: UnsafeMutableBufferPointer<Double>, _ operation: ReduceOperation,
                        label: String) throws -> CollectiveRequest
    /// Sums `values` (sum(counts) elements on every rank) over the ranks and leaves this rank's
    /// block of the sum, elements sum(counts[..<rank]) ..< + counts[rank], in `block`.
    func startReduceScatter(_ values: UnsafeBufferPointer<Float>, into block: UnsafeMutableBufferPointer<Float>,
                            counts: [Int], label: String) throws -> CollectiveRequest
    /// Every rank's block of `values` (rank r's at sum(counts[..<r]), counts[r] long) to every
    /// rank, in place: on return `values` holds all blocks.
    func startAllGather(_ values: UnsafeMutableBufferPointer<Float>, counts: [Int],
                        label: String) throws -> CollectiveRequest
    /// Rank `root`'s bytes to every rank, in place.
    func startBroadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int, label: String) throws -> CollectiveRequest
    /// Completes once every rank has started it.
    func startBarrier(label: String) throws -> CollectiveRequest
    /// Waits until `request` is complete on this rank and returns when it completed. Past the
    /// timeout (counted from its start) the group is ended instead.
    @discardableResult
    func wait(_ request: CollectiveRequest) throws -> ContinuousClock.Instant
    /// Ends every rank of the group with `status`, after the caller has said why.
    func abort(status: Int32) -> Never
    /// Leaves the group at the end of a run (every rank calls it, once).
    func finish() throws
}

extension Communicator {
    /// All-reduce, blocking.
    public func allReduce(_ values: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation,
                          label: String) throws {
        try wait(startAllReduce(values, operation, label: label))
    }

    /// Combines a few values over the ranks and returns the result.
    public func allReduce(_ values: [Double], _ operation: ReduceOperation, label: String) throws -> [Double] {
        var result = values
        try result.withUnsafeMutableBufferPointer { _ = try wait(startAllReduce($0, operation, label: label)) }
        return result
    }

    /// Rank `root`'s bytes, on every rank.
    public func broadcast(_ bytes: [UInt8], root: Int, label: String) throws -> [UInt8] {
        var result = bytes
        try result.withUnsafeMutableBytes { _ = try wait(startBroadcast($0, root: root, label: label)) }
        return result
    }

    /// Returns once every rank has reached it.
    public func barrier(label: String) throws { try wait(startBarrier(label: label)) }

    /// The counts of `total` elements split into `size` blocks as evenly as possible, the larger
    /// blocks first (what a rank owns of a reduce-scatter).
    public func blockCounts(_ total: Int) -> [Int] {
        (0..<size).map { total / size + ($0 < total % size ? 1 : 0) }
    }
}
