// The CSV training log (write, parse, resume truncation) and its SVG plot (well-formed XML with the
// three series).

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GPT
import Testing

@Suite("Training log and plot")
struct TrainingLogTests {
    static func rows(_ steps: ClosedRange<Int>) -> [TrainingLogRow] {
        steps.map { step in
            TrainingLogRow(step: step, trainLoss: 4 / Float(step), validationLoss: step % 5 == 0 ? 4.2 / Float(step) : nil,
                           learningRate: 1e-3 * Float(step) / 20, gradientNorm: 0.5, tokensPerSecond: 1000,
                           elapsedSeconds: Double(step) * 0.1)
        }
    }

    func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("gpt-log-\(UUID().uuidString)-\(name)").path
    }

    @Test func writtenRowsParseBackExactly() throws {
        let path = temporaryPath("log.csv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let rows = Self.rows(1...20)
        do {
            let writer = try TrainingLog.Writer(path: path)
            for row in rows { try writer.append(row) }
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix(TrainingLog.header + "\n"))
        #expect(try TrainingLog.parse(text) == rows)
    }

    @Test func resumingDropsRowsAfterTheResumeStep() throws {
        let path = temporaryPath("log.csv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let writer = try TrainingLog.Writer(path: path)
            for row in Self.rows(1...20) { try writer.append(row) }
        }
        do {
            let writer = try TrainingLog.Writer(path: path, resumeStep: 10)
            for row in Self.rows(11...12) { try writer.append(row) }
        }
        let parsed = try TrainingLog.parse(try String(contentsOfFile: path, encoding: .utf8))
        #expect(parsed.map(\.step) == Array(1...12))
    }

    @Test func malformedLogsAreOneLineErrors() {
        #expect(throws: TrainingLogError(description: "log: not a training log (expected the header '\(TrainingLog.header)')")) {
            try TrainingLog.parse("a,b\n1,2\n")
        }
        #expect(throws: TrainingLogError(description: "log: line 3 is malformed: '2,x,,1,1,1,1'")) {
            try TrainingLog.parse(TrainingLog.header + "\n1,2,,1,1,1,1\n2,x,,1,1,1,1\n")
        }
    }

    @Test func plotIsWellFormedSVGWithThreeSeries() throws {
        let svg = LossPlot.svg(Self.rows(1...40), title: "a <run> & more")
        final class Collector: NSObject, XMLParserDelegate {
            var polylines: [String: Int] = [:]
            var circles = 0
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                        qualifiedName: String?, attributes: [String: String] = [:]) {
                if name == "polyline", let id = attributes["id"] {
                    polylines[id] = attributes["points"]?.split(separator: " ").count ?? 0
                }
                if name == "circle" { circles += 1 }
            }
        }
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = Collector()
        parser.delegate = collector
        #expect(parser.parse(), "the SVG must be well-formed XML")
        #expect(collector.polylines == ["train": 40, "val": 8, "lr": 40])
        #expect(collector.circles == 8)
        #expect(svg.contains("a &lt;run&gt; &amp; more"))
    }
}
