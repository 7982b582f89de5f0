// The harness one op case runs in, once on the backend and once on the oracle.
//
// Every tensor a case creates lives inside a larger buffer: `leadingGuard` sentinel elements, the
// tensor (handed to the op as a view at an odd offset, so a kernel that ignores view offsets or
// assumes aligned starts is caught), then `trailingGuard` sentinels. After the op the harness downloads
// every buffer and requires the sentinels bit-for-bit unchanged (an out-of-bounds write detector, as in
// ggml's test-backend-ops) and every input unchanged. Outputs that the op OVERWRITES start as NaN, so
// an op that reads or accumulates into them instead shows up as NaN.
//
// Inputs come from a SplitMix64 seeded with the case's seed, drawn in the same order on both runs, so
// the backend and the oracle see identical values.

import Compute

/// Where one op case runs, once per backend: seeded inputs, guarded tensors at odd offsets,
/// NaN-filled outputs, and the checks after the call. Not `Sendable`: one case, one thread.
public final class OpHarness {
    /// The backend this run of the case calls.
    public let backend: any Backend
    private var generator: SplitMix64
    private var tensors: [GuardedTensor] = []
    private var compared: [(name: String, tensor: Int, tolerance: Tolerance?)] = []
    private var derived: [(name: String, suffix: String, transform: (Float) -> Float)] = []
    private var hostOutputs: [NamedOutput] = []

    /// Sentinel elements before each tensor (odd, so views start unaligned).
    public static let leadingGuard = 7
    /// Sentinel elements after each tensor.
    public static let trailingGuard = 9
    /// A float sentinel no op produces from the catalogue's inputs.
    public static let floatSentinel: Float = -3.125e33
    /// The int32 sentinel in the guard elements of int32 tensors.
    public static let intSentinel: Int32 = -123_456_789

    init(backend: any Backend, seed: UInt64) {
        self.backend = backend
        generator = SplitMix64(seed: seed)
    }

    // MARK: - Host-side inputs

    /// `count` values uniform in [low, high).
    public func uniform(_ count: Int, _ low: Float = -1, _ high: Float = 1) -> [Float] {
        (0..<count).map { _ in low + (high - low) * Float(generator.nextUniform()) }
    }

    /// `count` normal values with standard deviation `std`.
    public func normal(_ count: Int, std: Float = 1) -> [Float] {
        (0..<count).map { _ in std * Float(generator.nextNormal()) }
    }

    /// `count` integers in 0..<bound.
    public func integers(_ count: Int, below bound: Int) -> [Int32] {
        (0..<count).map { _ in Int32(truncatingIfNeeded: generator.next() % UInt64(bound)) }
    }

    /// Replaces `count` random elements of `values` with NaN, +Inf and -Inf in turn.
    public func injectNonFinite(_ values: inout [Float], count: Int) {
        let specials: [Float] = [.nan, .infinity, -.infinity]
        guard !values.isEmpty else { return }
        for i in 0..<count {
            values[Int(generator.next() % UInt64(values.count))] = specials[i % specials.count]
        }
    }

    // MARK: - Guarded tensors

    /// A float32 tensor the op only reads; it must come back unchanged.
    public func input(_ name: String, _ values: [Float]) throws -> BufferView {
        try place(GuardedTensor(name: name, role: .input, floats: values))
    }

    /// An int32 tensor the op only reads (tokens, targets).
    public func input(_ name: String, _ values: [Int32]) throws -> BufferView {
        try place(GuardedTensor(name: name, role: .input, ints: values))
    }

    /// An output the op OVERWRITES: it starts as NaN and is compared with the oracle's.
    public func output(_ name: String, count: Int, tolerance: Tolerance? = nil) throws -> BufferView {
        try output(name, initial: [Float](repeating: .nan, count: count), tolerance: tolerance)
    }

    /// An output the op ACCUMULATES into or updates in place, starting from `initial`.
    public func output(_ name: String, initial: [Float], tolerance: Tolerance? = nil) throws -> BufferView {
        let view = try place(GuardedTensor(name: name, role: .output, floats: initial))
        compared.append((name, tensors.count - 1, tolerance))
        return view
    }

    /// An int32 output the op OVERWRITES (starts as -1 everywhere), compared exactly as floats.
    public func outputInt32(_ name: String, count: Int) throws -> BufferView {
        let view = try place(GuardedTensor(name: name, role: .output, ints: [Int32](repeating: -1, count: count)))
        compared.append((name, tensors.count - 1, .exact))
        return view
    }

    /// Values the case obtained on the host (a `download`), compared like any output.
    public func record(_ name: String, _ values: [Float], tolerance: Tolerance? = nil) {
        hostOutputs.append(NamedOutput(name: name, values: values, tolerance: tolerance))
    }

    /// A tensor that is written but not compared (e.g. a forward result that feeds a backward op);
    /// its guards are still checked.
    public func scratch(_ name: String, count: Int) throws -> BufferView {
        try place(GuardedTensor(name: name, role: .output, floats: [Float](repeating: .nan, count: count)))
    }

    /// Also compares which elements of output `name` are exactly zero, bit-for-bit (dropout masks).
    public func compareZeroPattern(of name: String) {
        derived.append((name, ".zeros", { $0 == 0 ? 1 : 0 }))
    }

    /// Also compares the sign bit of every element of output `name` (-0.0 versus +0.0).
    public func compareSignBits(of name: String) {
        derived.append((name, ".signs", { $0.sign == .minus ? 1 : 0 }))
    }

    private func place(_ tensor: GuardedTensor) throws -> BufferView {
        let total = Self.leadingGuard + tensor.count + Self.trailingGuard
        let buffer = try backend.allocate(total, tensor.dtype)
        switch tensor.dtype {
        case .float32:
            let sentinels = [Float](repeating: Self.floatSentinel, count: Self.leadingGuard)
            try backend.upload(sentinels + tensor.floats + [Float](repeating: Self.floatSentinel,
                                                                    count: Self.trailingGuard), to: buffer.all)
        case .int32:
            let sentinels = [Int32](repeating: Self.intSentinel, count: Self.leadingGuard)
            try backend.upload(sentinels + tensor.ints + [Int32](repeating: Self.intSentinel,
                                                                  count: Self.trailingGuard), to: buffer.all)
        }
        var placed = tensor
        placed.buffer = buffer
        tensors.append(placed)
        return buffer.view(offset: Self.leadingGuard, count: tensor.count)
    }

    // MARK: - Observation

    /// Downloads every buffer: the compared outputs plus a list of guard or input violations.
    func observe() throws -> (outputs: [NamedOutput], violations: [String]) {
        try backend.synchronize()
        var downloaded: [[Float]] = []
        var violations: [String] = []
        for tensor in tensors {
            guard let buffer = tensor.buffer else { continue }
            let range = Self.leadingGuard ..< Self.leadingGuard + tensor.count
            switch tensor.dtype {
            case .float32:
                let all = try backend.download(buffer.all)
                let body = Array(all[range])
                if let index = firstChangedGuard(all.map(\.bitPattern), sentinel: Self.floatSentinel.bitPattern,
                                                 count: tensor.count) {
                    violations.append("wrote outside '\(tensor.name)' (\(describe(index, count: tensor.count)))")
                }
                if tensor.role == .input, let index = firstDifference(body, tensor.floats) {
                    violations.append("modified input '\(tensor.name)' at element \(index)")
                }
                downloaded.append(body)
            case .int32:
                let all = try backend.downloadInt32(buffer.all)
                if let index = firstChangedGuard(all.map { UInt32(bitPattern: $0) },
                                                 sentinel: UInt32(bitPattern: Self.intSentinel), count: tensor.count) {
                    violations.append("wrote outside '\(tensor.name)' (\(describe(index, count: tensor.count)))")
                }
                if tensor.role == .input, let index = tensor.ints.indices.first(where: { all[Self.leadingGuard + $0] != tensor.ints[$0] }) {
                    violations.append("modified input '\(tensor.name)' at element \(index)")
                }
                downloaded.append(all[range].map { Float($0) })
            }
        }
        var outputs = hostOutputs
        outputs += compared.map { NamedOutput(name: $0.name, values: downloaded[$0.tensor], tolerance: $0.tolerance) }
        for check in derived {
            guard let output = outputs.first(where: { $0.name == check.name }) else { continue }
            outputs.append(NamedOutput(name: check.name + check.suffix, values: output.values.map(check.transform),
                                       tolerance: .exact))
        }
        return (outputs, violations)
    }

    private func firstChangedGuard(_ bits: [UInt32], sentinel: UInt32, count: Int) -> Int? {
        for i in 0..<Self.leadingGuard where bits[i] != sentinel { return i }
        let tail = Self.leadingGuard + count
        for i in tail ..< tail + Self.trailingGuard where bits[i] != sentinel { return i }
        return nil
    }

    private func describe(_ bufferIndex: Int, count: Int) -> String {
        bufferIndex < Self.leadingGuard
            ? "\(Self.leadingGuard - bufferIndex) before the start"
            : "\(bufferIndex - Self.leadingGuard - count + 1) past the end"
    }

    /// First index where the bit patterns differ (so NaN inputs compare equal to themselves).
    private func firstDifference(_ a: [Float], _ b: [Float]) -> Int? {
        a.indices.first { a[$0].bitPattern != b[$0].bitPattern }
    }
}

/// A tensor placed between sentinels.
struct GuardedTensor {
    enum Role { case input, output }
    let name: String
    let role: Role
    let dtype: DType
    let floats: [Float]
    let ints: [Int32]
    var buffer: Buffer?

    init(name: String, role: Role, floats: [Float]) {
        self.name = name
        self.role = role
        dtype = .float32
        self.floats = floats
        ints = []
    }

    init(name: String, role: Role, ints: [Int32]) {
        self.name = name
        self.role = role
        dtype = .int32
        floats = []
        self.ints = ints
    }

    var count: Int { dtype == .float32 ? floats.count : ints.count }
}
