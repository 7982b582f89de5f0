// The report the CLI prints and writes: summary counts, table rows with the reason on FAIL/SKIP, and
// CSV quoting of parameter lists (which contain commas).

import Conformance
import ReferenceBackend
import Testing

@Suite("Conformance report")
struct ReportTests {
    func results() -> [CaseResult] {
        let oracle = ReferenceBackend()
        return [
            Conformance.evaluate(MatmulCase(m: 3, n: 17, k: 1, alpha: 0.5, beta: 1.5), backend: ReferenceBackend(), oracle: oracle),
            Conformance.evaluate(ElementwiseCase(.scale, rows: 3, cols: 17, alpha: 2), backend: FaultyBackend(.writesPastEnd),
                                 oracle: oracle),
            Conformance.evaluate(AttentionCase(backward: false, batch: 1, sequenceLength: 3, heads: 1, headDim: 4),
                                 backend: FaultyBackend(.unsupportedAttention), oracle: oracle),
        ]
    }

    @Test("summary counts each status")
    func summary() {
        var report = ConformanceReport(backendNames: ["reference"], cases: [])
        for result in results() { report.add(result) }
        #expect(report.summary == "1 passed, 1 failed, 1 skipped")
    }

    @Test("FAIL and SKIP rows carry the reason and the seed")
    func rows() {
        let all = results()
        let report = ConformanceReport(backendNames: all.map(\.backend), cases: [])
        let failing = report.row(all[1])
        #expect(failing.contains("FAIL") && failing.contains("past the end") && failing.contains("seed \(all[1].seed)"))
        #expect(report.row(all[0]).split(separator: "\n").count == 1)
        #expect(report.row(all[2]).contains("SKIP"))
    }

    @Test("CSV has one line per result and quotes fields with commas")
    func csv() {
        var report = ConformanceReport(backendNames: [], cases: [])
        for result in results() { report.add(result) }
        let lines = report.csv.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[1].hasPrefix("reference,matmul,\"m=3,n=17,k=1,tA=0,tB=0,alpha=0.5,beta=1.5,batch=1\","))
        #expect(ConformanceReport.csvField("say \"hi\", twice") == "\"say \"\"hi\"\", twice\"")
        #expect(ConformanceReport.csvField("plain") == "plain")
    }
}
