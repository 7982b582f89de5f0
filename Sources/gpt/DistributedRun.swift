// A training run as one rank of many: the flags that say how a run spreads over MPI ranks, the
// communicator they make (Open MPI when mpirun started this process, unless --distributed off),
// and what changes for the process: only rank 0 prints (the others' stdout goes to /dev/null),
// error lines name the rank, and an error ends every rank with MPI_Abort instead of leaving the
// others to wait for a collective that never comes.

import Compute
import Distributed
import GPT
import MPICommunicator
import Synchronization

/// --distributed's values.
enum DistributedMode: String, CaseIterable, Sendable {
    case auto, mpi, off
}

/// --distributed, --zero, --collective-timeout and --bucket-size.
struct DistributedOptions {
    let mode = Option("distributed", Choice.cases(of: DistributedMode.self), default: .auto,
                      help: "auto: data-parallel over MPI when started by mpirun -n N (gpt backends says whether "
                          + "MPI is available here); mpi: require it; off: one process even under mpirun")
    let zero = Option("zero", Choice.of([("0", false), ("1", true)]), default: false,
                      help: "1: ZeRO stage 1, each rank keeps AdamW moments for its shard of the parameters only")
    let timeout = Option("collective-timeout", .integer(atLeast: 1, placeholder: "SECONDS"), default: 60,
                         help: "end every rank when a collective takes longer (a rank died or hangs)")
    let bucketSize = Option("bucket-size", .byteCount, documentedDefault: "2M",
                            help: "gradients per collective, started while the backward pass goes on")

    var all: [any AnyOption] { [mode, zero, timeout, bucketSize] }

    /// This process's ranks, and how the run spreads over them.
    func parallelism() throws -> DataParallelism {
        let communicator = try DistributedProcess.join(mode.value, timeout: .seconds(timeout.value))
        return DataParallelism(communicator: communicator, shardsOptimizerState: zero.value,
                               bucketBytes: bucketSize.given ?? DataParallelism.defaultBucketBytes)
    }
}

/// This process as a rank of a data-parallel run.
enum DistributedProcess {
    /// The communicator of a run with more than one rank, once joined.
    private static let joined = Mutex<(any Communicator)?>(nil)

    /// The communicator `mode` asks for: MPI under mpirun (unless off) or whenever `mpi` asks for
    /// it (a starter other than mpirun: MPI itself knows the ranks), else one process.
    static func join(_ mode: DistributedMode, timeout: Duration) throws -> any Communicator {
        let announced = MPILaunch.current
        guard mode == .mpi || (mode == .auto && (announced?.size ?? 1) > 1) else { return SingleProcessCommunicator() }
        let launch = announced ?? MPILaunch.currentUnannounced
        let communicator: MPICommunicator
        do {
            communicator = try MPICommunicator.start(launch: launch, timeout: timeout)
        } catch let error as CollectiveError {
            throw RuntimeError("started by mpirun as rank \(launch.rank) of \(launch.size), but \(error.reason) "
                               + "(or pass --distributed off)")
        }
        if mode == .mpi && communicator.size == 1 && announced == nil {
            try? communicator.finish()
            throw RuntimeError("--distributed mpi: MPI sees one rank; start the ranks with mpirun -n N gpt train ... "
                               + "(or an MPI-aware starter such as srun --mpi=pmix)")
        }
        joined.withLock { $0 = communicator }
        if communicator.rank != 0 { Console.discardStandardOutput() }
        return communicator
    }

    /// "rank 1: " in a run of several ranks, else nothing: what error lines start with.
    static var messagePrefix: String {
        joined.withLock { $0.map { "rank \($0.rank): " } } ?? ""
    }

    /// After an error line: ends every rank of a multi-rank run (no one waits for this one).
    static func abortIfJoined(status: Int32) {
        if let communicator = joined.withLock({ $0 }) { communicator.abort(status: status) }
    }

    /// Leaves the run at its end (MPI_Finalize on every rank).
    static func finish() throws {
        guard let communicator = joined.withLock({ $0.take() }) else { return }
        try communicator.finish()
    }
}
