// Arithmetic on sizes that come from outside: flags, config files, checkpoint headers, state files.
// Every product and sum of such sizes goes through here, so a value too large to compute is a
// one-line error naming what was being computed instead of an overflow trap, and a caller can
// refuse it before anything is allocated (MemoryEstimate is built from these).

/// A size too large to compute in 64-bit integers.
public struct SizeOverflow: Error, CustomStringConvertible, Equatable {
    /// What was being computed, e.g. "the activations of 100000000 x 64 tokens".
    public let what: String

    /// An overflow while computing `what`.
    public init(_ what: String) { self.what = what }

    public var description: String { "\(what) is too large to compute (it overflows 64-bit integers)" }
}

/// Overflow-checked products and sums of sizes.
public enum CheckedSize {
    /// The largest count a flag or a config file may give (batch size, steps, micro-batches, ...):
    /// the int32 range backends index with. Products of such counts are then checked here.
    public static let countLimit = Int(Int32.max)

    /// The product of `factors`; throws naming `what` when it does not fit in an `Int`.
    public static func product(_ factors: Int..., of what: @autoclosure () -> String) throws(SizeOverflow) -> Int {
        try product(factors, of: what())
    }

    /// The product of `factors`; throws naming `what` when it does not fit in an `Int`.
    public static func product(_ factors: [Int], of what: @autoclosure () -> String) throws(SizeOverflow) -> Int {
        var result = 1
        for factor in factors {
            let (next, overflow) = result.multipliedReportingOverflow(by: factor)
            if overflow { throw SizeOverflow(what()) }
            result = next
        }
        return result
    }

    /// The sum of `terms`; throws naming `what` when it does not fit in an `Int`.
    public static func sum(_ terms: [Int], of what: @autoclosure () -> String) throws(SizeOverflow) -> Int {
        var result = 0
        for term in terms {
            let (next, overflow) = result.addingReportingOverflow(term)
            if overflow { throw SizeOverflow(what()) }
            result = next
        }
        return result
    }
}
