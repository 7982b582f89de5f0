// `gpt bench --op matmul|attention|attention-backward --shape ... [--kv-heads N]`: the speed of ONE
// kernel on one backend, for the GPU suite's targets (SGEMM 4096³, fused causal attention at
// 8,12,1024,64; `--kv-heads` makes it grouped-query attention with N key/value heads).
// One warm-up call (kernel build, first-touch allocation), then N timed calls, each followed by
// synchronize() before the clock is read: best and median wall time per call, turned into FLOP/s.
// Then the same N calls with a Profiler attached: on OpenCL its events give device-side kernel time,
// printed beside the wall figure (CPU backends' events are wall time too). Inputs are random, never
// zeros, and a sample of the outputs is checked against Double arithmetic on the host, so a broken
// kernel cannot report a fast time. The last line is `result key=value ...` for scripts.

import Compute
import GPT

/// Which kernel and at what size. Dimension letters as in Compute/Backend.swift.
struct KernelBenchSpec: Equatable {
    enum Op: String, CaseIterable, Sendable {
        case matmul
        case attention
        case attentionBackward = "attention-backward"

        /// The letters `--shape` lists, in order.
        var dimensionNames: [String] {
            self == .matmul ? ["M", "N", "K"] : ["B", "NH", "T", "hs"]
        }
    }

    let op: Op
    let dimensions: [Int]
    /// KVH of the attention ops: NH unless `--kv-heads` asks for grouped-query attention.
    let kvHeads: Int

    /// `op` at `--shape` ("4096,4096,4096" or "8,12,1024,64") with `--kv-heads`; mistakes are
    /// usage errors.
    init(op: Op, shape: String?, kvHeads: Int? = nil) throws {
        func fail(_ message: String) -> UsageError { UsageError(command: "bench", message: message) }
        let names = op.dimensionNames.joined(separator: ",")
        guard let shape else { throw fail("--op \(op.rawValue) needs --shape \(names)") }
        let parts = shape.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.compactMap { Int(String($0)) }
        guard parts.count == op.dimensionNames.count, values.count == parts.count else {
            throw fail("--shape for --op \(op.rawValue) expects \(names) (integers), got '\(shape)'")
        }
        guard values.allSatisfy({ (1...CheckedSize.countLimit).contains($0) }) else {
            throw fail("--shape values must be in 1...\(CheckedSize.countLimit), got '\(shape)'")
        }
        if let kvHeads {
            guard op != .matmul else { throw fail("--kv-heads applies to --op attention and attention-backward") }
            guard values[1] % kvHeads == 0 else {
                throw fail("--kv-heads \(kvHeads) must divide NH (\(values[1])): each KV head serves a whole group")
            }
        }
        self.op = op
        dimensions = values
        self.kvHeads = op == .matmul ? 0 : kvHeads ?? values[1]
    }

    /// What the rig allocates (KernelBench+Rig.swift): the op's buffers on the backend, the host
    /// copies of the inputs, and the output the check downloads.
    func memoryEstimate() throws -> MemoryEstimate {
        let d = dimensions
        func floats(_ what: String, _ factors: Int...) throws -> MemoryEstimate.Part {
            try MemoryEstimate.floats(try CheckedSize.product(factors, of: "\(what) of \(shapeDescription)"), what)
        }
        switch op {
        case .matmul:
            let (m, n, k) = (d[0], d[1], d[2])
            return try MemoryEstimate([try floats("A and its host copy", 2, m, k), try floats("B and its host copy", 2, k, n),
                                       try floats("C and its download", 2, m, n)])
        case .attention, .attentionBackward:
            // Rows of qkv and dqkv are W = (NH + 2·KVH)·hs wide; out and dout are C = NH·hs.
            let (b, nh, t, hs) = (d[0], d[1], d[2], d[3]), qkvHeads = nh + 2 * kvHeads  // kvHeads divides nh
            guard op == .attentionBackward else {
                return try MemoryEstimate([
                    try floats("qkv and its host copy", 2, b, t, qkvHeads, hs),
                    try floats("out and its download", 2, b, t, nh, hs), try floats("logsumexp", b, nh, t),
                ])
            }
            return try MemoryEstimate([
                try floats("qkv and its host copy", 2, b, t, qkvHeads, hs), try floats("out", b, t, nh, hs),
                try floats("logsumexp", b, nh, t), try floats("dout and its host copy", 2, b, t, nh, hs),
                try floats("dqkv and its download", 2, b, t, qkvHeads, hs),
            ])
        }
    }

    /// "M=4096 N=4096 K=4096", "B=8 NH=12 T=1024 hs=64", "B=8 NH=12 KVH=4 T=1024 hs=64".
    var shapeDescription: String {
        var fields = zip(op.dimensionNames, dimensions).map { "\($0)=\($1)" }
        if op != .matmul && kvHeads != dimensions[1] { fields.insert("KVH=\(kvHeads)", at: 2) }
        return fields.joined(separator: " ")
    }

    /// Floating-point operations of one call:
    ///   matmul: 2·M·N·K;  attention forward: 4·B·NH·T²·hs / 2 (QKᵀ and PV, causal half);
    ///   attention backward: what the OpenCL kernels execute: 3.5 × the forward (S and dP recomputed
    ///   in both the dK/dV and the dQ kernel, then dV, dK and dQ: seven T×T×hs products, halved)
    ///   plus D = rowsum(dout ∘ out), 2·B·NH·T·hs.
    ///   KVH does not enter: every query head still computes its own products (a dK/dV work-group
    ///   runs them for each query head of its KV head's group), so grouping saves memory, not FLOPs.
    var flopsPerCall: Double {
        let d = dimensions.map(Double.init)
        switch op {
        case .matmul: return 2 * d[0] * d[1] * d[2]
        case .attention: return 4 * d[0] * d[1] * d[2] * d[2] * d[3] / 2
        case .attentionBackward: return 3.5 * 4 * d[0] * d[1] * d[2] * d[2] * d[3] / 2 + 2 * d[0] * d[1] * d[2] * d[3]
        }
    }

    var flopsFormula: String {
        switch op {
        case .matmul: return "2*M*N*K"
        case .attention: return "4*B*NH*T^2*hs/2 (causal)"
        case .attentionBackward: return "3.5 * 4*B*NH*T^2*hs/2 + 2*B*NH*T*hs (causal)"
        }
    }
}

/// What one kernel bench measured.
struct KernelBenchResult {
    let spec: KernelBenchSpec
    /// Wall seconds of each timed call (call + synchronize), no profiler attached.
    let wallSeconds: [Double]
    /// Per timed call, the sum of the profiler events it recorded (device time on OpenCL); empty
    /// when the backend recorded none.
    let eventSeconds: [Double]
    /// ‖out − ref‖ / ‖ref‖ over the sampled outputs, and how many were sampled.
    let checkError: Double
    let checkedValues: Int
}

/// Relative error a float32 kernel must stay under (TF32 or BF16 arithmetic would not).
let kernelBenchErrorLimit = 1e-4

/// Runs `--op` on `backend`: warm-up, `repeats` timed calls, `repeats` profiled calls, the check.
func runKernelBench(_ spec: KernelBenchSpec, backend: any Backend, repeats: Int, seed: UInt64) throws
    -> KernelBenchResult {
    let rig = try KernelBenchRig(spec: spec, backend: backend, seed: seed)
    try rig.call()
    try backend.synchronize()
    var wall: [Double] = []
    for _ in 0..<repeats {
        let start = ContinuousClock.now
        try rig.call()
        try backend.synchronize()
        wall.append(seconds(since: start))
    }
    let profiler = Profiler()
    backend.profiler = profiler
    defer { backend.profiler = nil }
    var events: [Double] = []
    for _ in 0..<repeats {
        profiler.reset()
        try rig.call()
        try backend.synchronize()
        if !profiler.events.isEmpty { events.append(profiler.events.reduce(0) { $0 + $1.seconds }) }
    }
    backend.profiler = nil
    let (error, count) = try rig.check()
    return KernelBenchResult(spec: spec, wallSeconds: wall, eventSeconds: events, checkError: error,
                             checkedValues: count)
}

/// The fastest and the median of `values` (sorted copy; the upper middle for an even count is
/// averaged with the lower one).
func bestAndMedian(_ values: [Double]) -> (best: Double, median: Double) {
    let sorted = values.sorted()
    let middle = sorted.count / 2
    let median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    return (sorted[0], median)
}

/// "35.1 TFLOP/s" at or above 1000 GFLOP/s, else "812 GFLOP/s".
func flopRate(_ flopsPerSecond: Double) -> String {
    flopsPerSecond >= 1e12 ? significant(flopsPerSecond / 1e12) + " TFLOP/s" : significant(flopsPerSecond / 1e9) + " GFLOP/s"
}

/// The report: header, wall and device lines, the check, and the `result` line.
func printKernelBench(_ result: KernelBenchResult, backend: any Backend) -> Bool {
    let spec = result.spec, flops = spec.flopsPerCall
    let wall = bestAndMedian(result.wallSeconds)
    print("op: \(spec.op.rawValue)  shape: \(spec.shapeDescription)")
    print("backend: \(backend.name) (\(backend.deviceDescription))")
    print("FLOPs per call: \(spec.flopsFormula) = \(Format.grouped(Int(flops.rounded())))")
    print("calls: 1 warm-up + \(result.wallSeconds.count) timed (wall clock, synchronize before reading it) "
          + "+ \(result.wallSeconds.count) with the profiler attached")
    func line(_ label: String, _ times: (best: Double, median: Double)) -> String {
        "\(label)best \(Format.fixed(times.best * 1e3, 3)) ms = \(flopRate(flops / times.best)), "
            + "median \(Format.fixed(times.median * 1e3, 3)) ms = \(flopRate(flops / times.median))"
    }
    print(line("wall:   ", wall))
    var device: (best: Double, median: Double)?
    if !result.eventSeconds.isEmpty {
        let times = bestAndMedian(result.eventSeconds)
        device = times
        print(line("events: ", times) + " (sum of the profiler's events per call; device time on OpenCL)")
    }
    let passed = result.checkError.isFinite && result.checkError <= kernelBenchErrorLimit
    print("check: \(result.checkedValues) sampled outputs vs Double on the host: relative error "
          + "\(Format.scientific(result.checkError)) (limit \(Format.scientific(kernelBenchErrorLimit))) "
          + (passed ? "ok" : "FAILED"))
    var fields = ["op=\(spec.op.rawValue)", "shape=\(spec.dimensions.map(String.init).joined(separator: ","))"]
    if spec.op != .matmul { fields.append("kv_heads=\(spec.kvHeads)") }
    fields += ["backend=\(backend.name)",
                  "best_gflops=\(Format.fixed(flops / wall.best / 1e9, 1))",
                  "median_gflops=\(Format.fixed(flops / wall.median / 1e9, 1))",
                  "best_ms=\(Format.fixed(wall.best * 1e3, 4))", "median_ms=\(Format.fixed(wall.median * 1e3, 4))"]
    if let device { fields.append("event_best_ms=\(Format.fixed(device.best * 1e3, 4))") }
    fields.append("check=\(passed ? "ok" : "failed")")
    print("result " + fields.joined(separator: " "))
    return passed
}

/// `gpt bench --op`: checks the kernel flags, runs, prints; a failed output check exits 1.
func benchKernel(op: KernelBenchSpec.Op, options: BenchOptions) throws {
    let spec = try KernelBenchSpec(op: op, shape: options.shape.given, kvHeads: options.kvHeads.given)
    guard !options.compare.wasGiven else {
        throw UsageError(command: "bench", message: "--compare does not apply to --op (run one backend at a time)")
    }
    let backend = try options.workload.backend.make()
    try checkMemory(try spec.memoryEstimate(), backend: backend, limit: options.workload.memoryLimit.given,
                    work: "--op \(op.rawValue) --shape \(spec.dimensions.map(String.init).joined(separator: ","))",
                    hint: "use a smaller --shape")
    let result = try runKernelBench(spec, backend: backend, repeats: options.repeats.value,
                                    seed: options.workload.seed.value)
    guard printKernelBench(result, backend: backend) else {
        throw RuntimeError("\(spec.op.rawValue) output check failed: relative error "
                           + "\(Format.scientific(result.checkError)) > \(Format.scientific(kernelBenchErrorLimit))")
    }
}
