// The communicator over Open MPI (loaded at run time, CMPI/MPILoader.c), on MPI_COMM_WORLD.
//
// Every collective is MPI's non-blocking form (MPI_Iallreduce, MPI_Ireduce_scatter, ...), so a
// start returns at once and the reduction runs while the caller computes. MPI only moves data when
// some thread calls into it, so a progress thread tests the collectives in flight every 50 µs
// (MPICommunicator+Progress.swift); every MPI call, from that thread or the caller's, is made
// under one lock (MPI_THREAD_SERIALIZED). `wait` polls against the timeout; past it, the rank asks
// every other rank where it is and ends the job with one line naming the missing or late rank
// (MPICommunicator+Timeout.swift).

import CMPI
import Distributed
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Ranks started by Open MPI's mpirun, as a `Communicator`.
public final class MPICommunicator: Communicator {
    /// This process's rank in MPI_COMM_WORLD.
    public let rank: Int
    /// Ranks in MPI_COMM_WORLD.
    public let size: Int
    /// The rank's index among the ranks on its machine (from the launcher's environment).
    public let localRank: Int
    /// How long a collective may take, from its start, before every rank is ended.
    public let timeout: Duration
    /// "Open MPI v4.1.4, 2 ranks, collective timeout 60 s".
    public let summary: String
    /// Everything MPI-side, and the lock that serialises the calls into MPI.
    let state: Mutex<MPIState>
    let stopping = Atomic<Bool>(false)
    let progressThread = Mutex<pthread_t?>(nil)

    /// MPI may be initialised once per process.
    private static let initialised = Atomic<Bool>(false)

    /// Initialises MPI in this process (once) and starts the progress thread.
    public static func start(launch: MPILaunch, timeout: Duration) throws -> MPICommunicator {
        try MPILibrary.require()
        guard timeout > .zero else {
            throw CollectiveError(operation: "MPI", reason: "the collective timeout must be positive, got \(timeout)")
        }
        guard !initialised.exchange(true, ordering: .acquiringAndReleasing) else {
            throw CollectiveError(operation: "MPI", reason: "MPI is already initialised in this process")
        }
        var provided: Int32 = 0, rank: Int32 = 0, size: Int32 = 0
        try check(gpt_mpi_init(&provided), "MPI_Init_thread", label: "MPI")
        guard provided >= 2 else {
            throw CollectiveError(operation: "MPI", reason: "the library grants thread level \(provided); "
                                  + "this needs MPI_THREAD_SERIALIZED (2) or more")
        }
        try check(gpt_mpi_rank(&rank), "MPI_Comm_rank", label: "MPI")
        try check(gpt_mpi_size(&size), "MPI_Comm_size", label: "MPI")
        let communicator = MPICommunicator(rank: Int(rank), size: Int(size), localRank: launch.localRank,
                                           timeout: timeout)
        try communicator.startProgress()
        return communicator
    }

    private init(rank: Int, size: Int, localRank: Int, timeout: Duration) {
        self.rank = rank
        self.size = size
        self.localRank = localRank
        self.timeout = timeout
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) * 1e-18
        summary = "\(MPILibrary.versionSummary ?? "MPI"), \(size) ranks, collective timeout "
            + (seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s")
        state = Mutex(MPIState())
    }

    // MARK: - Collectives

    /// MPI_Iallreduce in place.
    public func startAllReduce(_ values: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation,
                               label: String) throws -> CollectiveRequest {
        let count = try Self.int32(values.count, label)
        return try start(label) { gpt_mpi_iallreduce(values.baseAddress, count, GPT_MPI_FLOAT, operation.mpi, $1) }
    }

    /// MPI_Iallreduce in place, in double precision.
    public func startAllReduce(_ values: UnsafeMutableBufferPointer<Double>, _ operation: ReduceOperation,
                               label: String) throws -> CollectiveRequest {
        let count = try Self.int32(values.count, label)
        return try start(label) { gpt_mpi_iallreduce(values.baseAddress, count, GPT_MPI_DOUBLE, operation.mpi, $1) }
    }

    /// MPI_Ireduce_scatter with MPI_SUM (uneven blocks allowed).
    public func startReduceScatter(_ values: UnsafeBufferPointer<Float>, into block: UnsafeMutableBufferPointer<Float>,
                                   counts: [Int], label: String) throws -> CollectiveRequest {
        try CollectiveError.checkCounts(counts, size: size, total: values.count, label: label)
        guard block.count == counts[rank] else {
            throw CollectiveError(operation: label, reason: "the block holds \(block.count) elements, not \(counts[rank])")
        }
        // MPI reads the counts until the collective completes: they live as long as it does.
        return try start(label, counts: try Self.int32s(counts, label)) {
            gpt_mpi_ireduce_scatter(values.baseAddress, block.baseAddress, $0, GPT_MPI_FLOAT, $1)
        }
    }

    /// MPI_Iallgatherv in place.
    public func startAllGather(_ values: UnsafeMutableBufferPointer<Float>, counts: [Int],
                               label: String) throws -> CollectiveRequest {
        try CollectiveError.checkCounts(counts, size: size, total: values.count, label: label)
        let displacements = counts.indices.map { counts[..<$0].reduce(0, +) }
        let size = counts.count
        return try start(label, counts: try Self.int32s(counts + displacements, label)) {
            gpt_mpi_iallgatherv(values.baseAddress, $0, $0.map { $0 + size }, GPT_MPI_FLOAT, $1)
        }
    }

    /// MPI_Ibcast of bytes.
    public func startBroadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int, label: String) throws -> CollectiveRequest {
        guard (0..<size).contains(root) else {
            throw CollectiveError(operation: label, reason: "root \(root) is not a rank of \(size)")
        }
        let count = try Self.int32(bytes.count, label)
        return try start(label) { gpt_mpi_ibcast(bytes.baseAddress, count, GPT_MPI_BYTE, Int32(root), $1) }
    }

    /// MPI_Ibarrier.
    public func startBarrier(label: String) throws -> CollectiveRequest {
        try start(label) { gpt_mpi_ibarrier($1) }
    }

    /// Polls `request` (the progress thread also tests it) until it completes, or, past the
    /// timeout, asks the other ranks where they are and ends the job with a line naming the late one.
    @discardableResult
    public func wait(_ request: CollectiveRequest) throws -> ContinuousClock.Instant {
        let deadline = request.started + timeout
        while true {
            if let finished = try state.withLock({ try $0.collect(request) }) { return finished }
            if ContinuousClock.now >= deadline { endAfterTimeout(request) }
            usleep(20)
        }
    }

    /// MPI_Abort: mpirun ends every rank with `status`.
    public func abort(status: Int32) -> Never {
        fflush(nil)  // every output stream: what the ranks printed last is not lost
        state.withLock { _ in gpt_mpi_abort(status) }
        exit(status)  // MPI_Abort does not return; should it, the process still ends
    }

    /// Stops the progress thread and calls MPI_Finalize.
    public func finish() throws {
        stopProgress()
        try state.withLock { state in
            state.responder.close()
            try Self.check(gpt_mpi_finalize(), "MPI_Finalize", label: "MPI")
        }
    }

    /// Starts one collective with `call` (given `counts` as C ints that live until it completes,
    /// and the request handle to fill) and records it.
    private func start(_ label: String, counts: [Int32] = [],
                       _ call: (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<gpt_mpi_request?>) -> Int32) throws
        -> CollectiveRequest {
        try state.withLock { state in
            var scratch: UnsafeMutablePointer<Int32>?
            if !counts.isEmpty {
                scratch = UnsafeMutablePointer<Int32>.allocate(capacity: counts.count)
                scratch?.initialize(from: counts, count: counts.count)
            }
            var handle: gpt_mpi_request?
            let status = call(scratch, &handle)
            guard status == 0 else {
                scratch?.deallocate()
                throw Self.failure(status, "starting it", label: label)
            }
            return state.record(handle, label: label, scratch: scratch)
        }
    }

    // MARK: - Errors and conversions

    static func check(_ status: Int32, _ call: String, label: String) throws {
        guard status != 0 else { return }
        throw failure(status, call, label: label)
    }

    static func failure(_ status: Int32, _ call: String, label: String) -> CollectiveError {
        var text = [CChar](repeating: 0, count: 512)
        gpt_mpi_error_string(status, &text, text.count)
        return CollectiveError(operation: label, reason: "\(call) failed: \(cText(text))")
    }

    private static func int32(_ value: Int, _ label: String) throws -> Int32 {
        guard let narrow = Int32(exactly: value) else {
            throw CollectiveError(operation: label, reason: "\(value) elements exceed MPI's int counts")
        }
        return narrow
    }

    /// `values` as C ints.
    private static func int32s(_ values: [Int], _ label: String) throws -> [Int32] {
        try values.map { try int32($0, label) }
    }
}

extension ReduceOperation {
    var mpi: gpt_mpi_op {
        switch self {
        case .sum: return GPT_MPI_SUM
        case .max: return GPT_MPI_MAX
        }
    }
}
