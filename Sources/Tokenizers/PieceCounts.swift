// How often each pre-tokenised piece occurs in a corpus: the input of the BPE trainer and of the
// word tokenizer's vocabulary. Counting is multi-threaded: the text is cut at points where the
// pre-tokenizer's pieces cannot change (an ASCII non-space, a single newline, an ASCII non-space)
// and each part is counted on its own thread, then the tables are merged.

import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// How often each pre-tokenised piece occurs in a corpus.
public struct PieceCounts: Sendable {
    var table = ByteStringTable(capacity: 1 << 14)
    /// counts[entry]: occurrences of table entry `entry`.
    var counts: [Int] = []

    /// No pieces yet.
    public init() {}

    /// Distinct pieces.
    public var distinctCount: Int { table.count }
    /// All occurrences.
    public var totalCount: Int { counts.reduce(0, +) }

    /// Counts `piece` (its bytes) `count` more times.
    public mutating func add(_ piece: UnsafeBufferPointer<UInt8>, count: Int = 1) {
        let (entry, inserted) = table.insert(piece)
        if inserted { counts.append(count) } else { counts[entry] += count }
    }

    /// Adds every piece of `other`.
    public mutating func merge(_ other: PieceCounts) {
        other.table.bytes.withUnsafeBufferPointer { arena in
            for entry in 0..<other.table.count {
                let range = other.table.offsets[entry] ..< other.table.offsets[entry + 1]
                add(UnsafeBufferPointer(rebasing: arena[range]), count: other.counts[entry])
            }
        }
    }

    /// (piece bytes, count) for every distinct piece, in first-seen order.
    public var entries: [(bytes: ArraySlice<UInt8>, count: Int)] {
        (0..<table.count).map { (table.key($0), counts[$0]) }
    }

    /// Counts the pieces of `text`, which must be complete (its end is the end of the text).
    public static func count(_ text: UnsafeBufferPointer<UInt8>, threads: Int = ProcessInfoCPU.count) -> PieceCounts {
        let points = splitPoints(text, parts: max(1, threads) * 4)
        // Each worker gets its own copy of its part (one memcpy of the text, small next to the
        // counting), so the parts cross threads as values and no pointer is shared.
        let parts = (0..<(points.count - 1)).map { Array(text[points[$0] ..< points[$0 + 1]]) }
        let partial = Mutex([PieceCounts](repeating: PieceCounts(), count: parts.count))
        DispatchQueue.concurrentPerform(iterations: parts.count) { index in
            var counts = PieceCounts()
            _ = parts[index].withUnsafeBufferPointer { part in
                PreTokenizer.forEachPiece(in: part, isFinal: true) { range in
                    counts.add(UnsafeBufferPointer(rebasing: part[range]))
                }
            }
            partial.withLock { $0[index] = counts }
        }
        return partial.withLock { results in
            guard var total = results.first else { return PieceCounts() }
            for other in results.dropFirst() { total.merge(other) }
            return total
        }
    }

    /// The pieces of `text`, counted on `threads` threads.
    public static func count(_ text: String, threads: Int = ProcessInfoCPU.count) -> PieceCounts {
        var copy = text
        return copy.withUTF8 { count($0, threads: threads) }
    }

    /// Whether the pieces of text[..<q] followed by those of text[q...] are the pieces of text.
    @inline(__always)
    static func isSafeSplit(_ text: UnsafeBufferPointer<UInt8>, _ q: Int) -> Bool {
        func solid(_ byte: UInt8) -> Bool { byte < 0x80 && byte != 32 && !(9...13).contains(byte) }
        return q >= 2 && q < text.count && text[q - 1] == UInt8(ascii: "\n") && solid(text[q - 2]) && solid(text[q])
    }

    /// The last safe split point at or before `end`, searching back no further than `start`.
    public static func lastSafeSplit(_ text: UnsafeBufferPointer<UInt8>, before end: Int, after start: Int) -> Int? {
        var q = min(end, text.count - 1)
        while q > start {
            if isSafeSplit(text, q) { return q }
            q -= 1
        }
        return nil
    }

    /// Boundaries 0 = b0 < b1 < ... = text.count cutting `text` into about `parts` parts at safe points.
    static func splitPoints(_ text: UnsafeBufferPointer<UInt8>, parts: Int) -> [Int] {
        var points = [0]
        for part in 1..<parts {
            let target = text.count * part / parts
            if let q = lastSafeSplit(text, before: target, after: points.last!), q > points.last! { points.append(q) }
        }
        if text.count > points.last! { points.append(text.count) }
        if points.count == 1 { points.append(0) }
        return points
    }
}

/// The number of CPUs this process may use (for sizing thread pools without Foundation).
public enum ProcessInfoCPU {
    /// Online CPUs (at least 1).
    public static var count: Int {
        #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 4
        #endif
    }
}
