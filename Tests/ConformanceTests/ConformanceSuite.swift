// The conformance suite: every catalogue case on every available backend, against the reference.
// One parameterized test case per (backend, op, shape); a failure message is the case's result line
// (backend, op(parameters), seed, worst tensor, max abs error, relative error, NMSE, tolerance).

import Compute
import Conformance
import ReferenceBackend
import Testing

@Suite("Conformance against the reference backend")
struct ConformanceSuite {
    @Test("backend agrees with the reference", arguments: testMatrix)
    func agreesWithReference(_ item: BackendCase) throws {
        let backend = try item.plugin.make(BackendOptions())
        let result = Conformance.evaluate(item.testCase, backend: backend, oracle: ReferenceBackend())
        if result.status == .skip {
            try Test.cancel("SKIP \(result.line)")
        }
        #expect(result.status == .pass, "\(result.line)")
    }

    @Test("every plugin under test is available or says why")
    func pluginsReportAvailability() {
        for plugin in pluginsUnderTest {
            switch plugin.probe() {
            case .available(let devices):
                #expect(!devices.isEmpty, "\(plugin.name) is available but names no device")
            case .unavailable(let reason):
                #expect(!reason.isEmpty, "\(plugin.name) is unavailable without a reason")
            }
        }
        #expect(!testMatrix.isEmpty, "no backend under test is available")
    }
}
