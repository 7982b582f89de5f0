// ProfileReport: turns a Profiler's raw events into what `gpt profile` shows: one row per op
// (calls, total time, share of the step, mean time, achieved GFLOP/s and GB/s) sorted by total
// time, one row per kernel the ops launched (backends that run device commands), a CSV of the op
// rows, and a Chrome trace (trace event format JSON) that opens in Perfetto (ui.perfetto.dev) or
// chrome://tracing. Pure value code: no clock, no files, no Foundation.

import Compute

struct ProfileReport: Sendable {
    /// How events are grouped into rows.
    enum Grouping: String, Sendable, CaseIterable {
        /// One row per op or kernel name.
        case op
        /// One row per (name, shape): e.g. each matmul shape separately.
        case shape
    }

    /// One op (or op and shape) summed over every call.
    struct Row: Equatable, Sendable {
        let name: String
        /// The shape for `.shape` grouping; empty for `.op` grouping.
        let shape: String
        let calls: Int
        /// Sum of the calls' durations, seconds.
        let seconds: Double
        let flops: Double
        let bytes: Double
        /// `seconds` as a fraction of the report's wall time (0...1 when the ops ran in sequence).
        let fractionOfWall: Double

        var meanSeconds: Double { calls > 0 ? seconds / Double(calls) : 0 }
        /// Achieved GFLOP/s (nil when the op records no FLOPs or took no measurable time).
        var gigaflopsPerSecond: Double? { flops > 0 && seconds > 0 ? flops / seconds / 1e9 : nil }
        /// Achieved GB/s of the op's estimated traffic (nil when it records no bytes).
        var gigabytesPerSecond: Double? { bytes > 0 && seconds > 0 ? bytes / seconds / 1e9 : nil }
    }

    /// One kernel (or device transfer) summed over every call, with the op that launched it.
    struct KernelRow: Equatable, Sendable {
        let name: String
        let op: String
        let calls: Int
        /// Sum of the calls' device durations, seconds.
        let seconds: Double
        let fractionOfWall: Double

        var meanSeconds: Double { calls > 0 ? seconds / Double(calls) : 0 }
    }

    /// Rows sorted by total time, longest first (ties by name, then shape).
    let rows: [Row]
    /// Kernel rows sorted the same way (empty on CPU backends, whose ops launch no kernels).
    let kernelRows: [KernelRow]
    /// The events the report was built from, in recording order (for the trace).
    let events: [ProfileEvent]
    /// Sum of every event's duration.
    let eventSeconds: Double
    /// Wall time the percentages refer to: the profiled steps as timed by the caller, or the event
    /// sum when none is given. Time not inside any event is `wallSeconds - eventSeconds`.
    let wallSeconds: Double
    /// Training steps the events cover (per-step figures divide by it).
    let steps: Int
    let grouping: Grouping

    /// Aggregates `events`. `wallSeconds`: the wall time of the profiled region (defaults to the
    /// sum of the events); `steps`: how many steps it covers (at least 1).
    init(events: [ProfileEvent], wallSeconds: Double? = nil, steps: Int = 1, grouping: Grouping = .op) {
        self.events = events
        self.steps = max(1, steps)
        self.grouping = grouping
        let eventSum = events.reduce(0.0) { $0 + $1.seconds }
        eventSeconds = eventSum
        let wall = wallSeconds ?? eventSum
        self.wallSeconds = wall

        struct Key: Hashable { let name: String, shape: String }
        var order: [Key] = []
        var sums: [Key: (calls: Int, seconds: Double, flops: Double, bytes: Double)] = [:]
        for event in events {
            let key = Key(name: event.name, shape: grouping == .shape ? event.shape : "")
            if sums[key] == nil { order.append(key) }
            var sum = sums[key] ?? (0, 0, 0, 0)
            sum.calls += 1
            sum.seconds += event.seconds
            sum.flops += event.flops
            sum.bytes += event.bytes
            sums[key] = sum
        }
        rows = order.map { key in
            let sum = sums[key]!
            return Row(name: key.name, shape: key.shape, calls: sum.calls, seconds: sum.seconds, flops: sum.flops,
                       bytes: sum.bytes, fractionOfWall: wall > 0 ? sum.seconds / wall : 0)
        }.sorted { a, b in
            if a.seconds != b.seconds { return a.seconds > b.seconds }
            if a.name != b.name { return a.name < b.name }
            return a.shape < b.shape
        }
        kernelRows = Self.kernelRows(events, wall: wall)
    }

    /// The kernels of every event, summed per (kernel, op).
    private static func kernelRows(_ events: [ProfileEvent], wall: Double) -> [KernelRow] {
        struct Key: Hashable { let name: String, op: String }
        var order: [Key] = []
        var sums: [Key: (calls: Int, seconds: Double)] = [:]
        for event in events {
            for kernel in event.kernels {
                let key = Key(name: kernel.name, op: event.name)
                if sums[key] == nil { order.append(key) }
                sums[key, default: (0, 0)].calls += 1
                sums[key, default: (0, 0)].seconds += kernel.seconds
            }
        }
        return order.map { key in
            let sum = sums[key]!
            return KernelRow(name: key.name, op: key.op, calls: sum.calls, seconds: sum.seconds,
                             fractionOfWall: wall > 0 ? sum.seconds / wall : 0)
        }.sorted { a, b in
            if a.seconds != b.seconds { return a.seconds > b.seconds }
            if a.name != b.name { return a.name < b.name }
            return a.op < b.op
        }
    }

    /// Wall time spent outside every recorded event (host work between ops, the caller's loop).
    var unaccountedSeconds: Double { max(0, wallSeconds - eventSeconds) }

    /// Total seconds of the rows whose name satisfies `predicate` (e.g. the matmuls).
    func seconds(where predicate: (String) -> Bool) -> Double {
        rows.filter { predicate($0.name) }.reduce(0) { $0 + $1.seconds }
    }

    /// Whether an op or kernel name is a matrix multiply ("matmul", or a kernel "matmul_<variant>").
    static func isMatmul(_ name: String) -> Bool {
        name == "matmul" || name.hasPrefix("matmul_") || name == "sgemm" || name.hasPrefix("sgemm_")
    }

    // MARK: - CSV

    /// The CSV header; one line per row follows in `csv`.
    static let csvHeader = "name,shape,calls,total_ms,percent_of_wall,mean_us,gflop_per_s,gb_per_s,flops,bytes"

    /// Every row as CSV (RFC 4180 quoting), times in ms and µs, rates empty when not meaningful.
    var csv: String {
        var lines = [Self.csvHeader]
        for row in rows {
            let fields = [Self.csvField(row.name), Self.csvField(row.shape), String(row.calls),
                          Self.number(row.seconds * 1e3), Self.number(row.fractionOfWall * 100),
                          Self.number(row.meanSeconds * 1e6),
                          row.gigaflopsPerSecond.map(Self.number) ?? "", row.gigabytesPerSecond.map(Self.number) ?? "",
                          Self.number(row.flops), Self.number(row.bytes)]
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingAll("\"", with: "\"\"") + "\""
    }

    // MARK: - Chrome trace

    /// The events as a Chrome trace (JSON object format): process and thread name metadata, then
    /// one complete ("ph":"X") event per op with `ts` and `dur` in microseconds and the shape,
    /// FLOPs and bytes in `args`. `markers` (e.g. one per training step) go on a second thread so
    /// the op timeline shows where each step starts and ends; the kernels each op launched on a
    /// third, under the op's timeline.
    func chromeTrace(processName: String, markers: [ProfileEvent] = []) -> String {
        let pid = 1, opThread = 1, markerThread = 2, kernelThread = 3
        var entries = [
            #"{"name":"process_name","ph":"M","pid":\#(pid),"tid":\#(opThread),"args":{"name":\#(jsonQuoted(processName))}}"#,
            #"{"name":"thread_name","ph":"M","pid":\#(pid),"tid":\#(opThread),"args":{"name":"ops"}}"#,
        ]
        if !markers.isEmpty {
            entries.append(#"{"name":"thread_name","ph":"M","pid":\#(pid),"tid":\#(markerThread),"args":{"name":"steps"}}"#)
        }
        func complete(_ event: ProfileEvent, thread: Int, category: String) -> String {
            var args = #""shape":\#(jsonQuoted(event.shape))"#
            if event.flops > 0 { args += #","flops":\#(Self.jsonNumber(event.flops))"# }
            if event.bytes > 0 { args += #","bytes":\#(Self.jsonNumber(event.bytes))"# }
            return #"{"name":\#(jsonQuoted(event.name)),"cat":"\#(category)","ph":"X","#
                + #""ts":\#(Self.jsonNumber(event.start * 1e6)),"dur":\#(Self.jsonNumber(event.seconds * 1e6)),"#
                + #""pid":\#(pid),"tid":\#(thread),"args":{\#(args)}}"#
        }
        let kernels = events.flatMap { event in event.kernels.map { (span: $0, op: event.name) } }
        func kernel(_ span: KernelSpan, op: String) -> String {
            #"{"name":\#(jsonQuoted(span.name)),"cat":"kernel","ph":"X","#
                + #""ts":\#(Self.jsonNumber(span.start * 1e6)),"dur":\#(Self.jsonNumber(span.seconds * 1e6)),"#
                + #""pid":\#(pid),"tid":\#(kernelThread),"args":{"op":\#(jsonQuoted(op))}}"#
        }
        if !kernels.isEmpty {
            entries.append(#"{"name":"thread_name","ph":"M","pid":\#(pid),"tid":\#(kernelThread),"args":{"name":"kernels"}}"#)
        }
        entries += markers.map { complete($0, thread: markerThread, category: "step") }
        entries += events.map { complete($0, thread: opThread, category: Self.isMatmul($0.name) ? "matmul" : "op") }
        entries += kernels.map { kernel($0.span, op: $0.op) }
        return "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n" + entries.joined(separator: ",\n") + "\n]}\n"
    }

    /// A JSON number (JSON has no NaN or infinity: those become 0, which a trace viewer tolerates).
    static func jsonNumber(_ value: Double) -> String { value.isFinite ? number(value) : "0" }

    /// Shortest round-tripping decimal ("12.5", "1e-05"): valid in both CSV and JSON.
    static func number(_ value: Double) -> String {
        if value.isFinite && value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}

extension String {
    /// Every occurrence of `target` replaced (String.replacingOccurrences is Foundation's).
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self {
            if character == target { out += replacement } else { out.append(character) }
        }
        return out
    }
}
