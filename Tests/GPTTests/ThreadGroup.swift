// A communicator test double: N ranks that are threads of the test process. Each collective
// completes when every rank has started it; the last rank to start computes the result into every
// rank's memory (summing in rank order, so every rank gets identical bits, as MPI's reductions
// give), and `wait` polls for it. Lets the data-parallel trainer and loop be tested in process,
// without mpirun; the MPI communicator itself is tested through the binary (CLITests).

import Distributed
import Foundation
import Synchronization

/// `size` ranks on threads; `communicator(rank:)` is each rank's end.
final class ThreadGroup: Sendable {
    /// One rank's part of a collective: addresses (as integers, so the state is Sendable) and counts.
    struct Posting: Sendable {
        var kind: String
        var address = 0, count = 0
        var blockAddress = 0
        var counts: [Int] = []
        var root = 0
        var operation = ReduceOperation.sum
        var isDouble = false
    }

    let size: Int
    private let state = Mutex<(posted: [Int: [Int: Posting]], done: Set<Int>)>(([:], []))

    init(size: Int) { self.size = size }

    func communicator(rank: Int) -> ThreadCommunicator { ThreadCommunicator(group: self, rank: rank) }

    /// Records rank `rank`'s part of collective `sequence`; the last part runs it.
    func post(_ posting: Posting, rank: Int, sequence: Int) {
        state.withLock { state in
            state.posted[sequence, default: [:]][rank] = posting
            guard let parts = state.posted[sequence], parts.count == size else { return }
            precondition(Set(parts.values.map(\.kind)).count == 1, "ranks started different collectives at #\(sequence)")
            Self.run((0..<size).map { parts[$0]! })
            state.posted[sequence] = nil
            state.done.insert(sequence)
        }
    }

    func isDone(_ sequence: Int) -> Bool { state.withLock { $0.done.contains(sequence) } }

    private static func run(_ parts: [Posting]) {
        switch parts[0].kind {
        case "allReduce" where parts[0].isDouble: reduce(parts, as: Double.self)
        case "allReduce": reduce(parts, as: Float.self)
        case "reduceScatter":
            let total = parts[0].count, counts = parts[0].counts
            var sums = [Float](repeating: 0, count: total)
            for part in parts { for i in 0..<total { sums[i] += floats(part.address)[i] } }
            for (rank, part) in parts.enumerated() {
                let start = counts[..<rank].reduce(0, +)
                for i in 0..<counts[rank] { floats(part.blockAddress)[i] = sums[start + i] }
            }
        case "allGather":
            let counts = parts[0].counts
            for (owner, source) in parts.enumerated() {
                let start = counts[..<owner].reduce(0, +)
                for target in parts where target.address != source.address {
                    for i in start..<(start + counts[owner]) { floats(target.address)[i] = floats(source.address)[i] }
                }
            }
        case "broadcast":
            let root = parts[parts[0].root]
            for part in parts where part.address != root.address {
                UnsafeMutableRawPointer(bitPattern: part.address)!
                    .copyMemory(from: UnsafeRawPointer(bitPattern: root.address)!, byteCount: root.count)
            }
        default: break  // barrier
        }
    }

    private static func reduce<T: BinaryFloatingPoint>(_ parts: [Posting], as: T.Type) {
        for i in 0..<parts[0].count {
            let values = parts.map { UnsafeMutablePointer<T>(bitPattern: $0.address)![i] }
            let result = parts[0].operation == .sum ? values.dropFirst().reduce(values[0], +) : values.max()!
            for part in parts { UnsafeMutablePointer<T>(bitPattern: part.address)![i] = result }
        }
    }

    private static func floats(_ address: Int) -> UnsafeMutablePointer<Float> { UnsafeMutablePointer(bitPattern: address)! }
}

/// One rank of a `ThreadGroup`.
final class ThreadCommunicator: Communicator {
    let group: ThreadGroup
    let rank: Int
    var size: Int { group.size }
    var localRank: Int { rank }
    let timeout = Duration.seconds(60)
    var summary: String { "\(size) threads" }
    private let started = Mutex(0)

    init(group: ThreadGroup, rank: Int) {
        self.group = group
        self.rank = rank
    }

    func startAllReduce(_ values: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation,
                        label: String) throws -> CollectiveRequest {
        start(label, .init(kind: "allReduce", address: address(values.baseAddress), count: values.count, operation: operation))
    }

    func startAllReduce(_ values: UnsafeMutableBufferPointer<Double>, _ operation: ReduceOperation,
                        label: String) throws -> CollectiveRequest {
        start(label, .init(kind: "allReduce", address: address(values.baseAddress), count: values.count,
                           operation: operation, isDouble: true))
    }

    func startReduceScatter(_ values: UnsafeBufferPointer<Float>, into block: UnsafeMutableBufferPointer<Float>,
                            counts: [Int], label: String) throws -> CollectiveRequest {
        try CollectiveError.checkCounts(counts, size: size, total: values.count, label: label)
        return start(label, .init(kind: "reduceScatter", address: address(values.baseAddress), count: values.count,
                                  blockAddress: address(block.baseAddress), counts: counts))
    }

    func startAllGather(_ values: UnsafeMutableBufferPointer<Float>, counts: [Int],
                        label: String) throws -> CollectiveRequest {
        try CollectiveError.checkCounts(counts, size: size, total: values.count, label: label)
        return start(label, .init(kind: "allGather", address: address(values.baseAddress), count: values.count,
                                  counts: counts))
    }

    func startBroadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int, label: String) throws -> CollectiveRequest {
        start(label, .init(kind: "broadcast", address: Int(bitPattern: bytes.baseAddress), count: bytes.count, root: root))
    }

    func startBarrier(label: String) throws -> CollectiveRequest { start(label, .init(kind: "barrier")) }

    @discardableResult
    func wait(_ request: CollectiveRequest) throws -> ContinuousClock.Instant {
        while !group.isDone(request.id) {
            guard ContinuousClock.now - request.started < timeout else {
                throw CollectiveError(operation: request.label, reason: "timed out on rank \(rank)")
            }
            usleep(50)
        }
        return .now
    }

    func abort(status: Int32) -> Never { fatalError("rank \(rank) aborted with status \(status)") }

    func finish() throws {}

    /// The request's id is the collective's sequence number, the same on every rank.
    private func start(_ label: String, _ posting: ThreadGroup.Posting) -> CollectiveRequest {
        let sequence = started.withLock { count in
            count += 1
            return count
        }
        group.post(posting, rank: rank, sequence: sequence)
        return CollectiveRequest(id: sequence, label: label, started: .now)
    }

    private func address<T>(_ pointer: UnsafeMutablePointer<T>?) -> Int { Int(bitPattern: pointer) }
    private func address<T>(_ pointer: UnsafePointer<T>?) -> Int { Int(bitPattern: pointer) }
}

extension ThreadGroup {
    /// Runs `body(rank)` on `size` threads at once and returns each rank's result, rank order.
    func run<Result: Sendable>(_ body: @escaping @Sendable (Int) throws -> Result) throws -> [Result] {
        let results = Mutex<[Int: Swift.Result<Result, any Error>]>([:])
        let threads = (0..<size).map { rank in
            Thread {
                let outcome = Swift.Result { try body(rank) }
                results.withLock { $0[rank] = outcome }
            }
        }
        for thread in threads {
            thread.stackSize = 8 << 20
            thread.start()
        }
        while results.withLock({ $0.count }) < size { usleep(1_000) }
        return try results.withLock { all in try (0..<size).map { try all[$0]!.get() } }
    }
}
