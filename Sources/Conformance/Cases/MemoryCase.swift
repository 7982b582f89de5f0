// Conformance cases for data movement: upload, download, copy and fill, float32 and int32.

import Compute

/// Moves `count` elements through one memory op between views at odd offsets. Every one of these is
/// bit-exact by contract (no arithmetic), so the tolerance is `.exact`; the harness's guard regions
/// check that nothing outside the destination view changes.
public struct MemoryCase: OpCase {
    /// Which op of the family the case calls (its initializer refuses any other).
    public let kind: Op
    /// Elements moved.
    public let count: Int
    /// Element type of the views (fill is float32 only).
    public let dtype: DType

    /// One transfer, copy or fill of `count` elements of `dtype`.
    public init(_ kind: Op, count: Int, dtype: DType = .float32) {
        precondition([.copy, .fill, .upload, .download].contains(kind), "not a memory op: \(kind)")
        precondition(kind != .fill || dtype == .float32, "fill is float32 only")
        self.kind = kind
        self.count = count
        self.dtype = dtype
    }

    /// The `Op` raw value of the call under test (what `--op` selects by).
    public var op: String { kind.rawValue }
    /// Shape and options as `key=value` pairs, as the result line prints them.
    public var parameters: String { "n=\(count),dtype=\(dtype.rawValue)" }
    /// Derived from `description`: the same case draws the same inputs on every run.
    public var seed: UInt64 { Self.seed(for: description) }
    /// The bound derived in the type's doc comment.
    public var tolerance: Tolerance { .exact }

    /// Draws the seeded inputs and the guarded outputs through `harness`, then makes the one call
    /// under test on `harness.backend`.
    public func execute(_ harness: OpHarness) throws {
        let backend = harness.backend
        // Negative zero and a subnormal check that values travel as bits, not through arithmetic.
        var floats = harness.normal(count)
        if count > 2 { floats[0] = -0.0; floats[1] = Float.leastNonzeroMagnitude }
        let ints = harness.integers(count, below: 1 << 24).map { $0 - (1 << 23) }
        switch (kind, dtype) {
        case (.upload, .float32):
            try backend.upload(floats, to: try harness.output("destination", count: count))
        case (.upload, .int32):
            try backend.upload(ints, to: try harness.outputInt32("destination", count: count))
        case (.download, .float32):
            harness.record("downloaded", try backend.download(try harness.input("source", floats)))
        case (.download, .int32):
            harness.record("downloaded", try backend.downloadInt32(try harness.input("source", ints)).map { Float($0) })
        case (.copy, .float32):
            try backend.copy(from: try harness.input("source", floats), to: try harness.output("destination", count: count))
        case (.copy, .int32):
            try backend.copy(from: try harness.input("source", ints), to: try harness.outputInt32("destination", count: count))
        case (.fill, _):
            try backend.fill(try harness.output("view", count: count), with: -2.5)
        default:
            preconditionFailure("not a memory op: \(kind)")
        }
        // Signed zero is invisible to the numeric comparison; compare the sign bits explicitly.
        if dtype == .float32, kind != .fill {
            harness.compareSignBits(of: kind == .download ? "downloaded" : "destination")
        }
    }

    static func catalogue(extended: Bool) -> [any ConformanceCase] {
        var cases: [any ConformanceCase] = []
        for count in [1, 17, 4099] + (extended ? [1 << 20] : []) {
            for kind in [Op.upload, .download, .copy] {
                cases.append(MemoryCase(kind, count: count))
                cases.append(MemoryCase(kind, count: count, dtype: .int32))
            }
            cases.append(MemoryCase(.fill, count: count))
        }
        return cases
    }
}
