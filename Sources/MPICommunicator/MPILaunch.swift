// How this process was started: by Open MPI's mpirun (or an Open MPI-launched scheduler job), which
// tells each process its place in the OMPI_COMM_WORLD_* environment variables, or on its own. Read
// before MPI is initialised, so `gpt train` knows whether to load MPI at all and which device a
// rank takes, and so `gpt backends` can say how distributed training would start.

#if canImport(Glibc)
import Glibc
#endif

/// The MPI launch this process belongs to, as its environment describes it.
public struct MPILaunch: Equatable, Sendable {
    /// This process's rank.
    public let rank: Int
    /// Ranks in the job.
    public let size: Int
    /// This process's index among the job's ranks on its machine.
    public let localRank: Int

    /// The launch mpirun describes in this process's environment, or nil when it was not started
    /// by Open MPI (no OMPI_COMM_WORLD_SIZE).
    public static var current: MPILaunch? { detect(getenv: environment) }

    /// What `unannounced` makes of this process's environment.
    public static var currentUnannounced: MPILaunch { unannounced(getenv: environment) }

    private static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    /// The launch `variable` (an environment lookup) describes.
    public static func detect(getenv variable: (String) -> String?) -> MPILaunch? {
        guard let size = variable("OMPI_COMM_WORLD_SIZE").flatMap({ Int($0) }), size >= 1 else { return nil }
        let rank = variable("OMPI_COMM_WORLD_RANK").flatMap { Int($0) } ?? 0
        return MPILaunch(rank: rank, size: size, localRank: localRank(getenv: variable) ?? rank)
    }

    /// A launch another starter made (Slurm's srun with PMIx, ...): rank and size come from MPI
    /// itself once it is initialised; the node-local rank from the first variable a starter sets.
    public static func unannounced(getenv variable: (String) -> String?) -> MPILaunch {
        MPILaunch(rank: 0, size: 1, localRank: localRank(getenv: variable) ?? 0)
    }

    private static func localRank(getenv variable: (String) -> String?) -> Int? {
        for name in ["OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID"] {
            if let value = variable(name).flatMap({ Int($0) }) { return value }
        }
        return nil
    }

    /// Whether distributed training can run here, in one line for `gpt backends`.
    public static func availability() -> String {
        switch MPILibrary.loaded {
        case let .failure(error):
            return "unavailable: \(error.reason)"
        case .success:
            let library = MPILibrary.versionSummary ?? "MPI"
            guard let launch = current else {
                return "available (\(library)); start with: mpirun -n N gpt train ... (this process was not "
                    + "started by mpirun)"
            }
            return "available (\(library)); this process is rank \(launch.rank) of \(launch.size)"
        }
    }
}
