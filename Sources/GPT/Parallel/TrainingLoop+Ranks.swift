// What the ranks of a data-parallel run agree on, beyond gradients: that they run the same run
// (checked once, before the first step: a rank started with other flags, other data or another
// checkpoint would otherwise train a different model silently), and whether to stop after a step
// (Ctrl-C reaches the ranks at different moments; they must all stop after the same one).

import Compute
import FoundationEssentials

extension TrainingLoop {
    /// Throws `ranksDisagree` on a rank whose run differs from rank 0's.
    func checkRanksAgree() throws {
        let mine = try fingerprint()
        let communicator = parallelism.communicator
        let ranks0 = try communicator.broadcast(mine, root: 0, label: "broadcast of rank 0's run fingerprint")
        // Every rank learns whether all agree, so that the ranks that do not differ do not go on
        // into a first step the others never start.
        let disagreeing = try communicator.allReduce([ranks0 == mine ? -1 : Double(communicator.rank)], .max,
                                                     label: "all-reduce of the run check")[0]
        if disagreeing >= 0 { throw TrainingError.ranksDisagree(rank: Int(disagreeing)) }
    }

    /// Whether any rank asks to stop after this step (every rank gets the same answer).
    func agreeToStop(_ asked: Bool) throws -> Bool {
        guard parallelism.isDistributed else { return asked }
        return try parallelism.communicator.allReduce([asked ? 1 : 0], .max, label: "all-reduce of the stop flag")[0] > 0
    }

    /// SHA-256 of what must be equal on every rank: the run config, where it stands, the corpus'
    /// size and the parameters' sum and sum of squares (bit patterns).
    private func fingerprint() throws -> [UInt8] {
        var hash = SHA256()
        hash.update(Array(try run.encoded()))
        let data = corpus.dataset
        var sum = 0.0, squares = 0.0
        for value in try model.parameterValues() {
            sum += Double(value)
            squares += Double(value) * Double(value)
        }
        let numbers = [UInt64(state.step), UInt64(state.batchesConsumed), UInt64(data.trainTokenCount),
                       UInt64(data.validationTokenCount), sum.bitPattern, squares.bitPattern]
        for number in numbers { hash.update(withUnsafeBytes(of: number.littleEndian) { Array($0) }) }
        return Array(hash.finalize().utf8)
    }
}
