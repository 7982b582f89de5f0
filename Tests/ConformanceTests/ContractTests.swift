// The op contract on every available backend: each checked rule (ContractRules*.swift) is its own
// parameterized case "<backend> <rule>", so a backend that drifts from the contract names itself
// and the rule. Plus the rule no single call shows: an op the backend declines is refused before
// its unchecked requirement runs.

import Compute
import Testing

/// One (backend, rule) pair; its name shows both.
struct ContractCase: Sendable, CustomTestStringConvertible {
    let plugin: BackendPlugin
    let rule: ContractRule

    var testDescription: String { "\(plugin.name) \(rule.name)" }
}

let availablePlugins = pluginsUnderTest.filter { $0.probe().isAvailable }

let contractMatrix: [ContractCase] = availablePlugins.flatMap { plugin in
    ContractRule.all.map { ContractCase(plugin: plugin, rule: $0) }
}

/// Wraps a backend and declines one op, counting the requirements that still reach it.
final class DecliningBackend: ForwardingBackend {
    let forwardee: any Backend
    let declined: Op
    var profiler: Profiler?
    private(set) var scaleCalls = 0

    init(_ forwardee: any Backend, declining op: Op) {
        self.forwardee = forwardee
        declined = op
    }

    var name: String { "declining-\(forwardee.name)" }

    func supports(_ op: Op) -> Support {
        op == declined ? .unsupported(reason: "declined by the test") : forwardee.supports(op)
    }

    func uncheckedScale(_ x: BufferView, by alpha: Float) throws {
        scaleCalls += 1
        try forwardee.uncheckedScale(x, by: alpha)
    }
}

@Suite("Op contract on every backend")
struct ContractTests {
    @Test("the contract holds", arguments: contractMatrix)
    func ruleHolds(_ item: ContractCase) throws {
        let views = Views(backend: try item.plugin.make(BackendOptions()))
        switch item.rule.outcome {
        case .succeeds:
            try item.rule.body(views)
        case let .fails(kind, op):
            expectError(kind, op: op, item) { try item.rule.body(views) }
        case let .failsWhereHostReadsValues(kind, op):
            guard views.backend.hostInt32s(try views.ints(1)) != nil else {
                try Test.cancel("\(item.plugin.name) keeps int32 views on the device: the model checks these values")
            }
            expectError(kind, op: op, item) { try item.rule.body(views) }
        }
    }

    /// `body` throws a BackendError of `kind` whose message is one line starting with "op:".
    func expectError(_ kind: ErrorKind, op: String, _ item: ContractCase, _ body: () throws -> Void) {
        let error = #expect(throws: BackendError.self, "\(item.testDescription) should throw") { try body() }
        guard let error else { return }
        #expect(ErrorKind(error) == kind, "\(item.testDescription): expected \(kind), got \(error)")
        #expect(error.description.hasPrefix("\(op):"), "\(item.testDescription): message does not start with the op: \(error)")
        #expect(!error.description.contains("\n"), "\(item.testDescription): message is not one line: \(error)")
    }

    @Test("an op the backend declines throws unsupported before its requirement runs",
          arguments: availablePlugins.map(\.name))
    func declinedOpIsRefusedFirst(_ name: String) throws {
        let plugin = try #require(availablePlugins.first { $0.name == name })
        let backend = DecliningBackend(try plugin.make(BackendOptions()), declining: .scale)
        let x = try backend.makeBuffer([1, 2] as [Float])
        let error = #expect(throws: BackendError.self) { try backend.scale(x.all, by: 2) }
        guard case .unsupported("scale", backend.name, "declined by the test")? = error else {
            Issue.record("\(name): expected unsupported, got \(String(describing: error))")
            return
        }
        #expect(backend.scaleCalls == 0, "\(name): the unchecked requirement ran")
        #expect(try backend.download(x.all) == [1, 2], "\(name): a declined op wrote")
        // The same call on an op it runs reaches the backend.
        try backend.addScaled(into: x.all, x.all, alpha: 1)
        #expect(try backend.download(x.all) == [2, 4])
    }
}
