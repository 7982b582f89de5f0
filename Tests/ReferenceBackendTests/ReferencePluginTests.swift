// The reference backend's registration: its plugin is named reference, always available, and makes
// a working backend. (Argument checks are the contract's and run on every backend in
// ConformanceTests/ContractTests.)

import Compute
import ReferenceBackend
import Testing

@Suite("Reference plugin")
struct ReferencePluginTests {
    @Test("the plugin is named reference, always available, and makes a working backend")
    func plugin() throws {
        let plugin = ReferenceBackend.plugin
        #expect(plugin.name == "reference" && plugin.priority == 0)
        guard case .available(let devices) = plugin.probe() else {
            Issue.record("reference plugin reports unavailable")
            return
        }
        #expect(devices.count == 1 && devices[0].hasPrefix("CPU, "), "devices: \(devices)")
        let backend = try plugin.make(BackendOptions(threads: 1))
        #expect(backend.name == "reference" && backend.deviceDescription == "CPU, 1 threads")
        let sum = try backend.allocate(3, .float32)
        try backend.add(out: sum.all, a: backend.makeBuffer([1, 2, 3] as [Float]).all,
                        b: backend.makeBuffer([10, 20, 30] as [Float]).all)
        #expect(try backend.download(sum.all) == [11, 22, 33], "plugin-made backend adds")
        #expect(throws: BackendError.self) { _ = try plugin.make(BackendOptions(threads: 0)) }
    }
}
