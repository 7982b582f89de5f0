// What OpenBLAS would choose on its own on this CPU, for the note `gpt backends` prints when the
// backend overrides it. OpenBLAS decides once per process, while it loads, so the only way to ask is
// a second process: a trivial program (/bin/true) with the same library preloaded, a clean
// environment (no OPENBLAS_CORETYPE) and OPENBLAS_VERBOSE=2, under which OpenBLAS prints
// "Core: <family>" to stderr as it initialises. Costs a few milliseconds; only `gpt backends` asks.

#if canImport(Glibc)
import Glibc
#endif

enum OpenBLASOwnChoice {
    /// The family OpenBLAS at `libraryPath` picks by itself, or nil if that cannot be found out
    /// (no /bin/true, a statically linked one, or a library that prints nothing).
    static func family(libraryPath: String) -> String? {
        let program = "/bin/true"
        guard access(program, X_OK) == 0 else { return nil }
        let output = run(program, environment: ["LD_PRELOAD=\(libraryPath)", "OPENBLAS_VERBOSE=2",
                                                "OPENBLAS_NUM_THREADS=1"])
        guard let line = output?.split(separator: "\n").first(where: { $0.hasPrefix("Core: ") }) else { return nil }
        let family = line.dropFirst("Core: ".count).split(separator: " ").first.map(String.init)
        return family?.isEmpty == false ? family : nil
    }

    /// Runs `program` with exactly `environment`, stdout discarded, and returns what it wrote to
    /// stderr (nil if it could not be started).
    private static func run(_ program: String, environment: [String]) -> String? {
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else { return nil }
        // Close-on-exec, so no other process this program starts inherits the pipe.
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        defer { close(pipeEnds[0]) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 2)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)

        let arguments = [strdup(program)] + [UnsafeMutablePointer<CChar>?(nil)]
        let variables = environment.map { strdup($0) } + [nil]
        defer { (arguments + variables).forEach { free($0) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, program, &actions, nil, arguments, variables)
        close(pipeEnds[1])
        guard spawned == 0 else { return nil }

        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 65_536 {
            let count = read(pipeEnds[0], &chunk, chunk.count)
            if count > 0 { bytes += chunk[0..<count] } else if count < 0 && errno == EINTR { continue } else { break }
        }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        return String(decoding: bytes, as: UTF8.self)
    }
}
