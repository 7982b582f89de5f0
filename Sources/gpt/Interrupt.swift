// Ctrl-C during training: the first SIGINT only raises a flag, so the loop finishes its step, saves
// a resumable checkpoint and exits 0; a second SIGINT exits at once (status 130). SIGUSR1 does the
// same: under mpirun, Ctrl-C ends every rank at once (mpirun kills them), but mpirun forwards
// SIGUSR1 to its ranks, so `kill -USR1 <mpirun's pid>` stops a data-parallel run with a checkpoint.
// The handler does nothing that is unsafe in a signal handler: an atomic add and a write(2) of a
// static string.

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
    /// Routes SIGINT and SIGUSR1 to the flag until `uninstall()`.
    static func install() {
        _ = signal(SIGINT, handleInterrupt)
        _ = signal(SIGUSR1, handleInterrupt)
        // A parent may have spawned us from a thread that blocks SIGINT (Foundation's Process does);
        // the mask is inherited, and a blocked Ctrl-C would wait forever.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGUSR1)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    static func uninstall() {
        _ = signal(SIGINT, SIG_DFL)
        _ = signal(SIGUSR1, SIG_DFL)
    }

    /// Whether Ctrl-C was pressed since `install()`.
    static var requested: Bool { interruptCount.load(ordering: .relaxed) > 0 }
}
