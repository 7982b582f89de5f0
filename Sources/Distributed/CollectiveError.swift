// Why a collective could not run, in one line that names it.

/// A collective that failed before or while it ran.
public struct CollectiveError: Error, CustomStringConvertible, Equatable {
    /// The collective's label, e.g. "all-reduce of gradient bucket 2 (1.5 MiB)".
    public let operation: String
    /// What went wrong, as a phrase.
    public let reason: String

    /// The failure of `operation`, for `reason`.
    public init(operation: String, reason: String) {
        self.operation = operation
        self.reason = reason
    }

    /// "operation: reason".
    public var description: String { "\(operation): \(reason)" }

    /// Throws unless `counts` split `total` elements over `size` ranks.
    public static func checkCounts(_ counts: [Int], size: Int, total: Int, label: String) throws {
        guard counts.count == size, counts.allSatisfy({ $0 >= 0 }), counts.reduce(0, +) == total else {
            throw CollectiveError(operation: label, reason: "block counts \(counts) do not split \(total) elements "
                                  + "over \(size) ranks")
        }
    }
}
