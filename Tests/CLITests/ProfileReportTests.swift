// ProfileReport (the CLI's presentation of a profile) on hand-made events: per-op sums, percentages
// of the wall time, sort order, the per-shape grouping, per-kernel rows, CSV columns and quoting,
// and a Chrome trace that parses as JSON and holds every event with microsecond timestamps.

import Compute
import Foundation
@testable import gpt
import Testing

@Suite("Profile report")
struct ProfileReportTests {
    /// Two steps' worth of events: matmul 3 calls (6 ms), attention 1 call (3 ms), add 2 calls (1 ms).
    static let events = [
        ProfileEvent(name: "matmul", shape: "m=4 n=4 k=4", flops: 2e6, bytes: 4e3, start: 0.000, seconds: 0.002),
        ProfileEvent(name: "add", shape: "n=16", flops: 0, bytes: 1e3, start: 0.002, seconds: 0.0005),
        ProfileEvent(name: "attentionForward", shape: "B=1 T=4", flops: 3e6, bytes: 0, start: 0.003, seconds: 0.003),
        ProfileEvent(name: "matmul", shape: "m=8 n=4 k=4", flops: 4e6, bytes: 8e3, start: 0.006, seconds: 0.001),
        ProfileEvent(name: "add", shape: "n=16", flops: 0, bytes: 1e3, start: 0.007, seconds: 0.0005),
        ProfileEvent(name: "matmul", shape: "m=4 n=4 k=4", flops: 2e6, bytes: 4e3, start: 0.008, seconds: 0.003),
    ]

    @Test func rowsSumPerOpAndSortByTotalTime() throws {
        let report = ProfileReport(events: Self.events, wallSeconds: 0.0125, steps: 2)
        #expect(report.rows.map(\.name) == ["matmul", "attentionForward", "add"])
        let matmul = report.rows[0]
        #expect(matmul.calls == 3)
        #expect(abs(matmul.seconds - 0.006) < 1e-12)
        #expect(abs(matmul.meanSeconds - 0.002) < 1e-12)
        #expect(matmul.flops == 8e6 && matmul.bytes == 16e3)
        #expect(abs(matmul.gigaflopsPerSecond! - 8e6 / 0.006 / 1e9) < 1e-9)
        #expect(abs(matmul.gigabytesPerSecond! - 16e3 / 0.006 / 1e9) < 1e-12)
        // Percentages refer to the wall time given, and the time outside events is what is left.
        #expect(abs(matmul.fractionOfWall - 0.48) < 1e-12)
        #expect(abs(report.eventSeconds - 0.010) < 1e-12)
        #expect(abs(report.unaccountedSeconds - 0.0025) < 1e-12)
        let fractions = report.rows.reduce(0) { $0 + $1.fractionOfWall }
        #expect(abs(fractions + report.unaccountedSeconds / report.wallSeconds - 1) < 1e-12)
        // No FLOPs or no bytes recorded: no rate rather than zero.
        #expect(report.rows[2].gigaflopsPerSecond == nil)
        #expect(report.rows[1].gigabytesPerSecond == nil)
    }

    @Test func kernelsAreSummedPerKernelAndOp() {
        let spans = [KernelSpan(name: "norm_backward_input", start: 0, seconds: 0.001),
                     KernelSpan(name: "reduce_columns", start: 0.001, seconds: 0.0005)]
        let events = [
            ProfileEvent(name: "layerNormBackward", shape: "N=4 C=8", flops: 0, bytes: 0, start: 0, seconds: 0.0015,
                         kernels: spans),
            ProfileEvent(name: "biasBackward", shape: "rows=4 cols=8", flops: 0, bytes: 0, start: 0.002,
                         seconds: 0.002, kernels: [KernelSpan(name: "reduce_columns", start: 0.002, seconds: 0.002)]),
        ]
        let report = ProfileReport(events: events, wallSeconds: 0.01, steps: 2)
        #expect(report.kernelRows.map(\.name) == ["reduce_columns", "norm_backward_input", "reduce_columns"])
        #expect(report.kernelRows.map(\.op) == ["biasBackward", "layerNormBackward", "layerNormBackward"])
        #expect(abs(report.kernelRows[1].fractionOfWall - 0.1) < 1e-12 && report.kernelRows[1].calls == 1)
        #expect(ProfileReport(events: Self.events).kernelRows.isEmpty, "CPU events launch no kernels")
    }

    @Test func withoutWallTimeThePercentagesReferToTheEventSum() {
        let report = ProfileReport(events: Self.events)
        #expect(report.wallSeconds == report.eventSeconds)
        #expect(abs(report.rows[0].fractionOfWall - 0.6) < 1e-12)
        #expect(report.unaccountedSeconds == 0)
    }

    @Test func tiesSortByName() {
        let events = ["zeta", "alpha", "mid"].map {
            ProfileEvent(name: $0, shape: "", flops: 0, bytes: 0, start: 0, seconds: 0.25)
        }
        #expect(ProfileReport(events: events).rows.map(\.name) == ["alpha", "mid", "zeta"])
    }

    @Test func shapeGroupingSplitsAnOpByShape() {
        let report = ProfileReport(events: Self.events, grouping: .shape)
        let matmuls = report.rows.filter { $0.name == "matmul" }
        #expect(matmuls.map(\.shape) == ["m=4 n=4 k=4", "m=8 n=4 k=4"])
        #expect(matmuls.map(\.calls) == [2, 1])
        #expect(ProfileReport(events: Self.events, grouping: .op).rows.allSatisfy { $0.shape.isEmpty })
    }

    @Test func matmulTimeIsSeparatedFromTheRest() {
        let report = ProfileReport(events: Self.events, wallSeconds: 0.0125)
        #expect(abs(report.seconds(where: ProfileReport.isMatmul) - 0.006) < 1e-12)
        #expect(abs(report.seconds(where: { $0.hasPrefix("attention") }) - 0.003) < 1e-12)
        #expect(ProfileReport.isMatmul("matmul_tiled") && !ProfileReport.isMatmul("matmulish"))
    }

    @Test func emptyEventsGiveAnEmptyReport() {
        let report = ProfileReport(events: [], wallSeconds: 1)
        #expect(report.rows.isEmpty && report.eventSeconds == 0 && report.unaccountedSeconds == 1)
        #expect(report.csv == ProfileReport.csvHeader + "\n")
    }

    @Test func csvHasTheHeaderAndOneParsableLinePerRow() throws {
        let report = ProfileReport(events: Self.events, wallSeconds: 0.0125, steps: 2)
        let lines = report.csv.split(separator: "\n").map(String.init)
        #expect(lines.first == "name,shape,calls,total_ms,percent_of_wall,mean_us,gflop_per_s,gb_per_s,flops,bytes")
        #expect(lines.count == 1 + report.rows.count)
        let matmul = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        #expect(matmul.count == 10)
        #expect(matmul[0] == "matmul" && matmul[1] == "" && matmul[2] == "3")
        #expect(abs(Double(matmul[3])! - 6) < 1e-9)      // total ms
        #expect(abs(Double(matmul[4])! - 48) < 1e-9)     // percent of wall
        #expect(abs(Double(matmul[5])! - 2000) < 1e-6)   // mean µs
        #expect(abs(Double(matmul[6])! - 8e6 / 0.006 / 1e9) < 1e-9)
        let add = lines[3].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        #expect(add[0] == "add" && add[6] == "" && !add[7].isEmpty)  // no FLOPs: empty GFLOP/s cell
    }

    @Test func csvQuotesFieldsWithCommasAndQuotes() {
        let events = [ProfileEvent(name: "odd, \"name\"", shape: "a,b", flops: 0, bytes: 0, start: 0, seconds: 1)]
        let line = ProfileReport(events: events, grouping: .shape).csv.split(separator: "\n")[1]
        #expect(line.hasPrefix(#""odd, ""name""","a,b",1,"#))
    }

    @Test func chromeTraceParsesAndHoldsEveryEvent() throws {
        let report = ProfileReport(events: Self.events, wallSeconds: 0.0125, steps: 2)
        let markers = [ProfileEvent(name: "step 1", shape: "B=1 T=4", flops: 0, bytes: 0, start: 0, seconds: 0.006),
                       ProfileEvent(name: "step 2", shape: "B=1 T=4", flops: 0, bytes: 0, start: 0.006, seconds: 0.0065)]
        let text = report.chromeTrace(processName: "test \"quoted\"\nprocess", markers: markers)
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let trace = try #require(object?["traceEvents"] as? [[String: Any]])
        let complete = trace.filter { $0["ph"] as? String == "X" }
        #expect(complete.count == Self.events.count + markers.count)
        let metadata = trace.filter { $0["ph"] as? String == "M" }
        let processName = metadata.first { $0["name"] as? String == "process_name" }?["args"] as? [String: Any]
        #expect(processName?["name"] as? String == "test \"quoted\"\nprocess")

        let ops = complete.filter { number($0["tid"]) == 1 }
        #expect(ops.map { $0["name"] as? String } == Self.events.map(\.name))
        for (event, entry) in zip(Self.events, ops) {
            #expect(abs(number(entry["ts"])! - event.start * 1e6) < 1e-6)
            #expect(abs(number(entry["dur"])! - event.seconds * 1e6) < 1e-6)
            #expect(number(entry["pid"]) == 1)
            let args = try #require(entry["args"] as? [String: Any])
            #expect(args["shape"] as? String == event.shape)
            #expect((number(args["flops"]) ?? 0) == event.flops)
        }
        #expect(ops[0]["cat"] as? String == "matmul" && ops[1]["cat"] as? String == "op")
        let steps = complete.filter { number($0["tid"]) == 2 }
        #expect(steps.map { $0["name"] as? String } == ["step 1", "step 2"])
        #expect(!trace.contains { $0["ph"] as? String == "M" && number($0["tid"]) == 3 }, "no kernel track without kernels")
    }

    @Test func chromeTracePutsKernelsOnTheirOwnTrackNamingTheirOp() throws {
        let events = [ProfileEvent(name: "matmul", shape: "m=2 n=2 k=3 batch=1", flops: 24, bytes: 0, start: 0.001,
                                   seconds: 0.002, kernels: [KernelSpan(name: "matmul_rows", start: 0.001, seconds: 0.002)])]
        let text = ProfileReport(events: events).chromeTrace(processName: "p")
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let trace = try #require(object?["traceEvents"] as? [[String: Any]])
        let kernels = trace.filter { $0["ph"] as? String == "X" && number($0["tid"]) == 3 }
        #expect(kernels.map { $0["name"] as? String } == ["matmul_rows"])
        #expect((kernels.first?["args"] as? [String: Any])?["op"] as? String == "matmul")
        #expect(kernels.first?["cat"] as? String == "kernel" && abs(number(kernels.first?["ts"])! - 1000) < 1e-9)
    }

    @Test func chromeTraceWritesNonFiniteNumbersAsValidJSON() throws {
        let events = [ProfileEvent(name: "bad", shape: "\u{1}", flops: .infinity, bytes: .nan, start: 0, seconds: 1e-7)]
        let text = ProfileReport(events: events).chromeTrace(processName: "p")
        #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(text.utf8)) }
        #expect(text.contains(#""shape":"\u0001""#))
    }

    /// A JSON number as Double, whether JSONSerialization made it an integer or a double.
    func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }
}
