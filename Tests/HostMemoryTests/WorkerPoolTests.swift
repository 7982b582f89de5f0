// The CPU backends' worker pool: every chunk of a job runs exactly once, whoever runs it, with
// nested and concurrent callers, and after the workers have gone to sleep.

import Dispatch
import Synchronization
import Foundation
import HostMemory
import Testing

@Suite struct WorkerPoolTests {
    /// A pool with more workers than this machine may have cores, so late and sleeping workers
    /// happen for real.
    static let pool = WorkerPool(workers: 3)

    /// How many times each chunk ran, for one job (each chunk writes only its own slot).
    static func runCounts(_ pool: WorkerPool, chunks: Int, threads: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: chunks)
        counts.withUnsafeMutableBufferPointer { slots in
            let base = slots.baseAddress!
            pool.run(chunks: chunks, threads: threads) { chunk in base[chunk] += 1 }
        }
        return counts
    }

    @Test(arguments: [1, 2, 3, 7, 64, 1000], [1, 2, 4, 8])
    func everyChunkRunsOnce(chunks: Int, threads: Int) {
        for _ in 0..<20 {
            #expect(Self.runCounts(Self.pool, chunks: chunks, threads: threads) == [Int](repeating: 1, count: chunks),
                    "chunks \(chunks), threads \(threads)")
        }
    }

    @Test func zeroChunksRunNothing() {
        Self.pool.run(chunks: 0, threads: 4) { _ in Issue.record("a chunk ran") }
    }

    @Test func aLoopNestedInAChunkRunsInline() {
        var inner = [Int](repeating: 0, count: 8 * 5)
        inner.withUnsafeMutableBufferPointer { slots in
            let base = slots.baseAddress!
            Self.pool.run(chunks: 8, threads: 4) { outer in
                Self.pool.run(chunks: 5, threads: 4) { chunk in base[outer * 5 + chunk] += 1 }
            }
        }
        #expect(inner == [Int](repeating: 1, count: 40))
    }

    @Test func concurrentCallersEachGetTheirWholeJob() {
        let failures = Atomic(0)
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for round in 0..<200 {
                let chunks = 1 + (caller * 7 + round) % 33
                if Self.runCounts(Self.pool, chunks: chunks, threads: 4) != [Int](repeating: 1, count: chunks) {
                    failures.wrappingAdd(1, ordering: .relaxed)
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
    }

    @Test func workersWokenFromSleepFinishTheJob() {
        for _ in 0..<5 {
            Thread.sleep(forTimeInterval: 0.002 + 5 * Double(WorkerPool.spinWindow.components.attoseconds) / 1e18)
            #expect(Self.runCounts(Self.pool, chunks: 16, threads: 4) == [Int](repeating: 1, count: 16))
        }
    }
}
