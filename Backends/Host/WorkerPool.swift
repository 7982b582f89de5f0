// The CPU backends' worker threads: one pool per process, its threads kept awake between the ops of
// a training step. Measured on 2 vCPUs (EPYC Zen 4): `DispatchQueue.concurrentPerform` split a
// 393K-element GELU into two chunks no faster than one thread ran it (its worker woke after the
// caller had done both chunks), and OpenBLAS threading its own calls reached 100-190 GFLOP/s at
// char-baby's matmul shapes while two single-threaded sgemm halves on these threads reached
// 186-197 every time. So every parallel loop, matmuls included, runs here.
//
// A job is `chunks` indices claimed one at a time by the caller and the workers alike, so a late
// worker only means the caller takes more chunks; chunk boundaries are the caller's, so the result
// does not depend on who ran what. Each thread first claims its own share, the same contiguous
// block of chunks every job (the caller the first), and only then the chunks others have not
// claimed: consecutive ops cut the same rows the same way, so the rows one op wrote are mostly
// read by the next on the same core, from its own L2 rather than the other core's. After a job a
// worker spins (yielding the core to anything runnable) for `spinWindow`, long enough to catch the
// next op of a step, then sleeps on a condition until the next job.

import Foundation
import Synchronization

/// A fixed set of worker threads that run the chunks of one job at a time alongside its caller.
package final class WorkerPool: Sendable {
    /// The pool the CPU backends share: one thread fewer than the online cores (the caller is the
    /// last). Created on first use.
    package static let shared = WorkerPool(workers: max(0, onlineCores - 1))

    /// Cores the operating system has online.
    static var onlineCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// How long a worker keeps polling for the next job before it sleeps.
    package static let spinWindow: Duration = .microseconds(200)

    /// One call of `run`: its chunk count, how many workers may help, the claim and finish
    /// counters, and the workers inside it. A worker that picks a job up late finds every chunk
    /// claimed and leaves it.
    private final class Job: Sendable {
        let chunks: Int, helpers: Int
        /// Bit c set once chunk c is claimed (jobs of up to 64 chunks, the only ones that get shares).
        let claimed = Atomic<UInt64>(0)
        /// The claim counter of larger jobs.
        let nextChunk = Atomic<Int>(0)
        let finishedChunks = Atomic<Int>(0)
        /// Workers in `runChunks`: each may hold a reference to `body` until it leaves, and
        /// `withoutActuallyEscaping` traps if one is left when `run` returns.
        let activeWorkers = Atomic<Int>(0)
        init(chunks: Int, helpers: Int) { (self.chunks, self.helpers) = (chunks, helpers) }
    }

    /// Worker threads (the caller of `run` works too).
    package let workers: Int

    /// Bumped once per job: what idle workers poll.
    private let generation = Atomic<Int>(0)
    /// The job being run, if any.
    private let current = Mutex<Job?>(nil)
    /// Workers asleep on `wake` (the caller signals only when there are any).
    private let sleepers = Atomic<Int>(0)
    /// Held by the one caller whose job the workers run; another caller finds it taken and runs its
    /// chunks itself (a second backend on another thread, or a loop nested inside a chunk).
    private let busy = Atomic<Bool>(false)
    private let wake = NSCondition()
    /// The running job's body. Set before the job is published and cleared after its last chunk
    /// finished; read only by a thread that has just claimed one of its chunks, so never while
    /// it is being written.
    nonisolated(unsafe) private var body: ((Int) -> Void)?

    /// Starts `workers` threads, which live as long as the process (the shared pool is the only one
    /// the backends make; tests make their own).
    package init(workers: Int) {
        self.workers = workers
        for index in 0..<workers {
            let thread = Thread { [self] in self.serve(index: index) }
            thread.name = "gpt-worker-\(index + 1)"
            thread.start()
        }
    }

    /// Calls `body(chunk)` once for every chunk in 0..<chunks, on the calling thread and at most
    /// `threads - 1` workers, returning when all have finished. `body` must write only its own
    /// chunk's outputs.
    package func run(chunks: Int, threads: Int, _ body: (Int) -> Void) {
        let helpers = min(workers, threads - 1, chunks - 1)
        guard helpers > 0, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for chunk in 0..<chunks { body(chunk) }
            return
        }
        withoutActuallyEscaping(body) { body in
            self.body = body
            let job = Job(chunks: chunks, helpers: helpers)
            current.withLock { $0 = job }
            generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                wake.lock()
                wake.broadcast()
                wake.unlock()
            }
            runChunks(of: job, share: 0)
            while job.finishedChunks.load(ordering: .acquiring) < chunks {}
            while job.activeWorkers.load(ordering: .acquiring) > 0 {}
            current.withLock { $0 = nil }
            self.body = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// Claims and runs the job's chunks until none are left: thread `share`'s block of them first
    /// (share 0 the caller's, worker i's i + 1), then whatever is unclaimed, from the end.
    private func runChunks(of job: Job, share: Int) {
        guard job.chunks <= 64 else {
            while true {
                let chunk = job.nextChunk.wrappingAdd(1, ordering: .relaxed).oldValue
                guard chunk < job.chunks else { return }
                run(chunk, of: job)
            }
        }
        let threads = job.helpers + 1
        for chunk in job.chunks * share / threads ..< job.chunks * (share + 1) / threads {
            claim(chunk, of: job)
        }
        var chunk = job.chunks
        while chunk > 0 {
            chunk -= 1
            if job.claimed.load(ordering: .relaxed) & (1 << UInt64(chunk)) == 0 { claim(chunk, of: job) }
        }
    }

    /// Runs `chunk` if no other thread has claimed it.
    @inline(__always)
    private func claim(_ chunk: Int, of job: Job) {
        let bit: UInt64 = 1 << UInt64(chunk)
        if job.claimed.bitwiseOr(bit, ordering: .relaxed).oldValue & bit == 0 { run(chunk, of: job) }
    }

    @inline(__always)
    private func run(_ chunk: Int, of job: Job) {
        guard let body else { return }
        body(chunk)
        job.finishedChunks.wrappingAdd(1, ordering: .releasing)
    }

    /// A worker's life: wait for a new generation, help with its job if it asked for this many.
    private func serve(index: Int) {
        var seen = generation.load(ordering: .acquiring)
        while true {
            seen = waitForJob(after: seen)
            guard let job = current.withLock({ $0 }), index < job.helpers else { continue }
            job.activeWorkers.wrappingAdd(1, ordering: .relaxed)
            runChunks(of: job, share: index + 1)
            job.activeWorkers.wrappingSubtract(1, ordering: .releasing)
        }
    }

    /// The first generation after `seen`: polled for `spinWindow` (yielding the core to anything
    /// runnable), then waited for asleep.
    private func waitForJob(after seen: Int) -> Int {
        let deadline = ContinuousClock.now + WorkerPool.spinWindow
        var polls = 0
        while true {
            let current = generation.load(ordering: .acquiring)
            if current != seen { return current }
            polls += 1
            if polls & 63 == 0 {
                if ContinuousClock.now > deadline { break }
                sched_yield()
            }
        }
        wake.lock()
        sleepers.wrappingAdd(1, ordering: .sequentiallyConsistent)
        var current = generation.load(ordering: .sequentiallyConsistent)
        while current == seen {
            wake.wait()
            current = generation.load(ordering: .sequentiallyConsistent)
        }
        sleepers.wrappingSubtract(1, ordering: .sequentiallyConsistent)
        wake.unlock()
        return current
    }
}
