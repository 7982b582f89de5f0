// A test hook beside the publisher: with GPT_TEST_KILL_AT_RENAME=N in the environment, the Nth
// rename a checkpoint save makes in this process sends the process SIGKILL just before it happens,
// so nothing is cleaned up: how the kill-injection tests reproduce a crash at every step of a
// save. Unset, it costs one load and compare per rename.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

enum PublishFaultInjection {
    /// The rename to kill at (1-based), from the environment; nil: never.
    private static let killAt: Int? = getenv("GPT_TEST_KILL_AT_RENAME").flatMap { Int(String(cString: $0)) }
    private static let renames = Atomic<Int>(0)

    static func beforeRename() {
        guard let killAt else { return }
        if renames.add(1, ordering: .relaxed).newValue == killAt { kill(getpid(), SIGKILL) }
    }
}
