// The MPI side of the communicator: the collectives in flight, and the progress thread that tests
// them every 50 µs (Open MPI moves a non-blocking collective's data only inside MPI calls, so
// without it a bucket's all-reduce would wait for the caller's `wait` instead of overlapping the
// backward pass), answers other ranks' "where are you?" queries (MPICommunicator+Timeout.swift)
// every 2 ms while idle, and records when each collective completed.

import CMPI
import Distributed
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A collective this rank started and has not yet waited for.
struct PendingCollective {
    var handle: gpt_mpi_request?
    /// 1-based: the n-th collective this rank started (every rank starts the same ones in order).
    let sequence: Int
    let label: String
    var finished: ContinuousClock.Instant?
    /// Counts MPI reads until completion (freed then).
    var scratch: UnsafeMutablePointer<Int32>?
    /// Set when a test failed; `wait` throws it.
    var failure: CollectiveError?
}

/// What the communicator's lock protects: every MPI handle this process holds.
struct MPIState {
    private var nextID = 1
    /// Collectives started so far, and the last one's label (what a query's answer reports).
    private(set) var started = 0
    private(set) var lastLabel = "none yet"
    private(set) var pending: [Int: PendingCollective] = [:]
    var responder = QueryResponder()

    /// Records a started collective.
    mutating func record(_ handle: gpt_mpi_request?, label: String, scratch: UnsafeMutablePointer<Int32>?)
        -> CollectiveRequest {
        started += 1
        lastLabel = label
        let id = nextID
        nextID += 1
        pending[id] = PendingCollective(handle: handle, sequence: started, label: label, scratch: scratch)
        return CollectiveRequest(id: id, label: label, started: .now)
    }

    /// Tests every collective in flight once (which also lets MPI progress all of them).
    mutating func testAll() {
        for id in pending.keys { test(id) }
    }

    /// When `request` completed (removing it), nil while it runs.
    mutating func collect(_ request: CollectiveRequest) throws -> ContinuousClock.Instant? {
        test(request.id)
        guard let entry = pending[request.id] else {
            throw CollectiveError(operation: request.label, reason: "not in flight (never started, or already waited for)")
        }
        if let failure = entry.failure {
            pending[request.id] = nil
            throw failure
        }
        guard let finished = entry.finished else { return nil }
        pending[request.id] = nil
        return finished
    }

    /// The sequence number of `request`, if it is in flight.
    func sequence(of request: CollectiveRequest) -> Int? { pending[request.id]?.sequence }

    private mutating func test(_ id: Int) {
        guard var entry = pending[id], entry.finished == nil, entry.failure == nil else { return }
        var done: Int32 = 0
        let status = gpt_mpi_test(&entry.handle, &done)
        if status != 0 {
            entry.failure = MPICommunicator.failure(status, "MPI_Test", label: entry.label)
        } else if done != 0 {
            entry.finished = .now
            entry.scratch?.deallocate()
            entry.scratch = nil
        }
        pending[id] = entry
    }

    /// Whether a collective is still running.
    var isBusy: Bool { pending.values.contains { $0.finished == nil && $0.failure == nil } }
}

extension MPICommunicator {
    /// Posts the query receive and starts the progress thread.
    func startProgress() throws {
        try state.withLock { state in
            try Self.check(state.responder.open(), "MPI_Irecv", label: "MPI progress")
        }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(&thread, nil, { context in
            let communicator = Unmanaged<MPICommunicator>.fromOpaque(context!).takeRetainedValue()
            communicator.runProgress()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<MPICommunicator>.fromOpaque(context).release()
            throw CollectiveError(operation: "MPI progress", reason: "cannot start its thread (error \(status))")
        }
        progressThread.withLock { $0 = thread }
    }

    /// Stops and joins the progress thread.
    func stopProgress() {
        stopping.store(true, ordering: .releasing)
        if let thread = progressThread.withLock({ $0.take() }) { pthread_join(thread, nil) }
    }

    private func runProgress() {
        let rank = Int64(rank)
        while !stopping.load(ordering: .acquiring) {
            let busy = state.withLock { state in
                state.testAll()
                state.responder.serve(rank: rank, started: Int64(state.started), lastLabel: state.lastLabel)
                return state.isBusy
            }
            usleep(busy ? 50 : 2_000)
        }
    }
}
