// Ctrl-C during training: the first SIGINT only raises a flag, so the loop finishes its step, saves
// a resumable checkpoint and exits 0; a second SIGINT exits at once (status 130). SIGTERM (kill,
// docker stop, systemd) and SIGHUP (the terminal went away) are the same request to stop, so they
// save too. So does SIGUSR1: under mpirun, Ctrl-C ends every rank at once (mpirun kills them), so
// SIGUSR1 sent to the ranks (`kill -USR1 $(pgrep -P <mpirun's pid>)`; Open MPI 4.1 did not forward
// it from mpirun here) stops a data-parallel run with a checkpoint. The handler does nothing that is unsafe in a signal handler: an atomic add and
// a write(2) of a static string.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

private let interruptCount = Atomic<Int>(0)

private func handleInterrupt(_ signal: Int32) {
    if interruptCount.add(1, ordering: .relaxed).oldValue > 0 { _exit(130) }
    let message: StaticString = "\ninterrupted: finishing this step and saving a checkpoint (Ctrl-C again quits now)\n"
    _ = write(STDERR_FILENO, message.utf8Start, message.utf8CodeUnitCount)
}

enum Interrupt {
    /// The signals that ask a run to stop.
    private static let stopSignals = [SIGINT, SIGTERM, SIGHUP, SIGUSR1]

    /// Routes the stop signals to the flag until `uninstall()`.
    static func install() {
        for stop in stopSignals { _ = signal(stop, handleInterrupt) }
        // A parent may have spawned us from a thread that blocks SIGINT (Foundation's Process does);
        // the mask is inherited, and a blocked Ctrl-C would wait forever.
        var set = sigset_t()
        sigemptyset(&set)
        for stop in stopSignals { sigaddset(&set, stop) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    static func uninstall() {
        for stop in stopSignals { _ = signal(stop, SIG_DFL) }
    }

    /// Whether Ctrl-C was pressed since `install()`.
    static var requested: Bool { interruptCount.load(ordering: .relaxed) > 0 }
}
