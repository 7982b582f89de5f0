// The backend registry: `auto` picks the best available plugin; unknown or unavailable names are
// one-line errors that list what is available.

import Compute
import Testing

@Suite("Backend registry")
struct RegistryTests {
    /// A plugin whose factory must never run in these tests (the registry only probes).
    static func plugin(_ name: String, priority: Int, available: Bool) -> BackendPlugin {
        BackendPlugin(name: name, summary: "test plugin \(name)", priority: priority,
                      probe: { available ? .available(devices: ["test device"]) : .unavailable(reason: "no \(name) here") },
                      make: { _ in throw BackendError.unavailable(backend: name, reason: "test factory") })
    }

    let registry = BackendRegistry([
        plugin("slow", priority: 0, available: true),
        plugin("gpu", priority: 20, available: false),
        plugin("fast", priority: 10, available: true),
    ])

    @Test func autoPicksTheHighestPriorityAvailablePlugin() throws {
        #expect(try registry.resolve("auto").name == "fast")
        #expect(registry.availableNames == ["fast", "slow"])
        #expect(try registry.resolve("slow").name == "slow")
    }

    @Test func unknownNameListsTheAvailableOnes() {
        #expect(throws: RegistryError.self) { try registry.resolve("cuda") }
        do {
            _ = try registry.resolve("cuda")
        } catch {
            #expect("\(error)" == "unknown backend 'cuda'; available: auto, fast, slow")
        }
    }

    @Test func unavailableNameSaysWhyAndListsTheAvailableOnes() {
        do {
            _ = try registry.resolve("gpu")
            Issue.record("resolving an unavailable backend must throw")
        } catch {
            #expect("\(error)" == "backend 'gpu' is unavailable (no gpu here); available: auto, fast, slow")
        }
    }

    @Test func noAvailableBackendGivesEveryReason() {
        let empty = BackendRegistry([Self.plugin("gpu", priority: 1, available: false)])
        #expect(throws: RegistryError.self) { try empty.resolve("auto") }
        do { _ = try empty.resolve("auto") } catch {
            #expect("\(error)" == "no backend is available: gpu: no gpu here")
        }
    }
}
