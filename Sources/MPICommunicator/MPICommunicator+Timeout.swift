// What happens when a collective does not complete in time: the rank that waited asks every other
// rank, point to point, where it is (a live rank's progress thread answers within milliseconds,
// whatever its main thread is doing), waits a little for the answers, and ends the whole job with
// MPI_Abort after one line that says which collective timed out and which rank is to blame: one
// that did not answer (stopped, hung or dead) or one that has not started that collective yet.
//
// A query is two int64s (asking rank, the collective's sequence number); an answer is 128 bytes:
// the answering rank and how many collectives it has started (int64 each), then the label of its
// last one (NUL-terminated).

import CMPI
import Distributed

#if canImport(Glibc)
import Glibc
#endif

/// Answers other ranks' queries: one receive always posted, answers kept until they are sent.
struct QueryResponder {
    static let queryTag: Int32 = 0x6770
    static let answerTag: Int32 = 0x6771
    static let answerBytes = 128

    private var query = UnsafeMutablePointer<Int64>.allocate(capacity: 2)
    private var receive: gpt_mpi_request?
    private var answers: [(handle: gpt_mpi_request?, bytes: UnsafeMutableRawPointer)] = []

    /// Posts the receive for the first query.
    mutating func open() -> Int32 {
        gpt_mpi_irecv(query, 2, GPT_MPI_INT64, -1, Self.queryTag, &receive)
    }

    /// Answers a query that has arrived, reposts the receive, and frees answers that were sent.
    mutating func serve(rank: Int64, started: Int64, lastLabel: String) {
        var done: Int32 = 0
        if receive != nil, gpt_mpi_test(&receive, &done) == 0, done != 0 {
            let bytes = Self.answer(rank: rank, started: started, lastLabel: lastLabel)
            var handle: gpt_mpi_request?
            if gpt_mpi_isend(bytes, Int32(Self.answerBytes), GPT_MPI_BYTE, Int32(truncatingIfNeeded: query[0]),
                             Self.answerTag, &handle) == 0 {
                answers.append((handle, bytes))
            } else {
                bytes.deallocate()
            }
            _ = open()
        }
        answers.removeAll { answer in
            var handle = answer.handle, sent: Int32 = 0
            guard gpt_mpi_test(&handle, &sent) == 0, sent != 0 else { return false }
            answer.bytes.deallocate()
            return true
        }
    }

    /// Cancels the posted receive before MPI_Finalize (answers still unsent are dropped).
    mutating func close() {
        _ = gpt_mpi_cancel(&receive)
    }

    static func answer(rank: Int64, started: Int64, lastLabel: String) -> UnsafeMutableRawPointer {
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: answerBytes, alignment: 8)
        bytes.initializeMemory(as: UInt8.self, repeating: 0, count: answerBytes)
        bytes.storeBytes(of: rank, as: Int64.self)
        bytes.storeBytes(of: started, toByteOffset: 8, as: Int64.self)
        let label = Array(lastLabel.utf8.prefix(answerBytes - 17))
        bytes.advanced(by: 16).copyMemory(from: label, byteCount: label.count)
        return bytes
    }
}

extension MPICommunicator {
    /// The query and its answers: prints the verdict on `request` and ends every rank.
    func endAfterTimeout(_ request: CollectiveRequest) -> Never {
        let sequence = state.withLock { $0.sequence(of: request) } ?? 0
        let answers = askOtherRanks(about: sequence)
        var blame: [String] = []
        for other in 0..<size where other != rank {
            guard let answer = answers[other] else {
                blame.append("rank \(other) did not answer (stopped, hung or dead)")
                continue
            }
            if answer.started < sequence {
                blame.append("rank \(other) has not started it (its last collective, #\(answer.started), "
                             + "was \(answer.lastLabel))")
            }
        }
        if blame.isEmpty { blame = ["every rank has started it, so the transport between them is stuck"] }
        let seconds = timeout.components.seconds
        let line = "MPI rank \(rank): \(request.label) (collective #\(sequence)) did not complete within "
            + "\(seconds) s: \(blame.joined(separator: "; ")); ending all ranks (raise --collective-timeout "
            + "if the ranks are merely slow)\n"
        var bytes = Array(line.utf8)
        fflush(nil)
        _ = write(STDERR_FILENO, &bytes, bytes.count)
        abort(status: 1)
    }

    /// Sends the query to every other rank and collects the answers that arrive within a grace
    /// period (a tenth of the timeout, 1 to 5 s).
    private func askOtherRanks(about sequence: Int) -> [Int: (started: Int, lastLabel: String)] {
        let others = (0..<size).filter { $0 != rank }
        let query = UnsafeMutablePointer<Int64>.allocate(capacity: 2)
        query[0] = Int64(rank)
        query[1] = Int64(sequence)
        let buffers = others.map { _ in UnsafeMutableRawPointer.allocate(byteCount: QueryResponder.answerBytes, alignment: 8) }
        var sends = [gpt_mpi_request?](repeating: nil, count: others.count)
        var receives = [gpt_mpi_request?](repeating: nil, count: others.count)
        state.withLock { _ in
            for (index, other) in others.enumerated() {
                _ = gpt_mpi_isend(query, 2, GPT_MPI_INT64, Int32(other), QueryResponder.queryTag, &sends[index])
                _ = gpt_mpi_irecv(buffers[index], Int32(QueryResponder.answerBytes), GPT_MPI_BYTE, Int32(other),
                                  QueryResponder.answerTag, &receives[index])
            }
        }
        let grace = min(max(timeout / 10, .seconds(1)), .seconds(5))
        let deadline = ContinuousClock.now + grace
        var answers: [Int: (started: Int, lastLabel: String)] = [:]
        while answers.count < others.count && ContinuousClock.now < deadline {
            state.withLock { _ in
                for (index, other) in others.enumerated() where answers[other] == nil {
                    var done: Int32 = 0
                    guard receives[index] != nil, gpt_mpi_test(&receives[index], &done) == 0, done != 0 else { continue }
                    let bytes = buffers[index]
                    let started = Int(bytes.load(fromByteOffset: 8, as: Int64.self))
                    let label = String(decoding: UnsafeRawBufferPointer(start: bytes + 16, count: QueryResponder.answerBytes - 16)
                        .prefix { $0 != 0 }, as: UTF8.self)
                    answers[other] = (started, label)
                }
            }
            usleep(1_000)
        }
        return answers  // the buffers stay allocated: MPI may still write them, and the job ends now
    }
}
