// The argument checks every checked entry point is made of, in one place so that each rule reads
// and fails the same way on every backend: one-line `BackendError`s that start with the op's name.
//
// Rules the entry points apply (the contract files say which views each op has):
// - every view belongs to the backend the op runs on (`Backend.owns`) and holds the op's dtype;
// - counts fit the sizes, sizes are positive, strides and offsets are not negative;
// - a view the op writes never partially overlaps another view of the call; it may be the very
//   same range as an input only where the op's doc says "may alias" (elementwise maps, which read
//   each element before writing it), and two written views never overlap at all.

/// A view with the name its argument has in the op's signature, for error messages.
typealias NamedView = (name: String, view: BufferView)

/// The checks of one call of `op` on `backend`. Creating it answers `supports(op)` first.
struct OpCheck<Target: Backend> {
    let op: Op
    let backend: Target

    /// Throws `.unsupported` (with the backend's reason) before anything else is looked at.
    init(_ op: Op, on backend: Target) throws {
        if case .unsupported(let reason) = backend.supports(op) {
            throw BackendError.unsupported(op: op.rawValue, backend: backend.name, reason: reason)
        }
        self.op = op
        self.backend = backend
    }

    private var name: String { op.rawValue }

    // MARK: - Owner and dtype

    /// Each view belongs to the backend and holds float32 (nil views, absent optionals, are skipped).
    func floats(_ views: KeyValuePairs<String, BufferView?>) throws {
        for case let (what, view?) in views { try owned(what, view, .float32) }
    }

    /// Each view belongs to the backend and holds int32.
    func int32s(_ views: KeyValuePairs<String, BufferView>) throws {
        for (what, view) in views { try owned(what, view, .int32) }
    }

    /// `view` belongs to the backend and holds `dtype`.
    func owned(_ what: String, _ view: BufferView, _ dtype: DType) throws {
        guard backend.owns(view.buffer) else {
            throw BackendError.wrongBuffer(
                op: name, reason: "\(what) belongs to backend '\(view.buffer.backendName)', not '\(backend.name)'")
        }
        guard view.dtype == dtype else {
            throw BackendError.wrongBuffer(
                op: name, reason: "\(what) must be \(dtype.rawValue), got \(view.dtype.rawValue)")
        }
    }

    // MARK: - Sizes

    /// Throws unless every size is positive.
    func positive(_ sizes: KeyValuePairs<String, Int>) throws {
        for (what, value) in sizes where value <= 0 {
            throw BackendError.invalidArgument(op: name, reason: "\(what) must be positive, got \(value)")
        }
    }

    /// Throws unless every value is zero or more.
    func nonNegative(_ values: KeyValuePairs<String, Int>) throws {
        for (what, value) in values where value < 0 {
            throw BackendError.invalidArgument(op: name, reason: "\(what) must not be negative, got \(value)")
        }
    }

    /// Throws unless `view.count == expected`.
    func count(_ what: String, _ view: BufferView?, _ expected: Int) throws {
        guard let view, view.count != expected else { return }
        throw BackendError.shapeMismatch(op: name, expected: "\(what) of \(expected) elements", got: "\(view.count)")
    }

    /// Throws unless `view.count >= expected` (views that may be longer than the op reaches).
    func atLeast(_ what: String, _ view: BufferView, _ expected: Int) throws {
        guard view.count < expected else { return }
        throw BackendError.shapeMismatch(op: name, expected: "\(what) of at least \(expected) elements",
                                         got: "\(view.count)")
    }

    /// Throws `invalidArgument` with `reason` unless `condition` holds.
    func require(_ condition: Bool, _ reason: @autoclosure () -> String) throws {
        guard !condition else { return }
        throw BackendError.invalidArgument(op: name, reason: reason())
    }

    // MARK: - Aliasing

    /// `written` shares no element with any of `others`.
    func separate(_ written: NamedView, from others: [NamedView?]) throws {
        for case let other? in others where written.view.overlaps(other.view) {
            throw overlap(written, other)
        }
    }

    /// Written views that share no element with each other.
    func separate(_ written: [NamedView?]) throws {
        let present = written.compactMap { $0 }
        for (index, first) in present.enumerated() {
            try separate(first, from: Array(present[(index + 1)...]))
        }
    }

    /// `written` is either exactly the range of `input` (the documented "may alias") or shares no
    /// element with it.
    func aliasOrSeparate(_ written: NamedView, _ input: NamedView?) throws {
        guard let input, written.view.overlaps(input.view) else { return }
        let same = written.view.offset == input.view.offset && written.view.count == input.view.count
        guard same else { throw overlap(written, input) }
    }

    private func overlap(_ first: NamedView, _ second: NamedView) -> BackendError {
        .invalidArgument(op: name, reason: "\(first.name) and \(second.name) overlap")
    }

    // MARK: - Values the host can read

    /// Every int32 in `view` lies in `range`, where the backend can read it on the host without a
    /// device round trip (`Backend.hostInt32s`); elsewhere the op's doc says what happens instead.
    func values(_ what: String, _ view: BufferView, in range: Range<Int32>, allowing ignored: Int32? = nil,
                describedAs bounds: String) throws {
        guard let values = backend.hostInt32s(view) else { return }
        for (index, value) in values.enumerated() where !range.contains(value) && value != ignored {
            throw BackendError.invalidArgument(
                op: name, reason: "\(what) \(value) at position \(index) is outside \(bounds)")
        }
    }

    // MARK: - Running

    /// Runs the backend's unchecked call. With a profiler attached, `record` is built (only then)
    /// and the backend times the call (`Backend.timeOp`); without one this is just the call.
    func run<Result>(_ record: @autoclosure () -> OpRecord, _ body: () throws -> Result) throws -> Result {
        guard let profiler = backend.profiler else { return try body() }
        return try backend.timeOp(record(), profiler: profiler, body)
    }

    /// The profile record of this op: one shape format, one FLOP and one byte formula per op.
    func record(_ shape: String, flops: Double = 0, bytes: Double) -> OpRecord {
        OpRecord(op: op, shape: shape, flops: flops, bytes: bytes)
    }
}
