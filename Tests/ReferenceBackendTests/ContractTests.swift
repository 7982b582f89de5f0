// The reference backend's side of the contract: memory ops, one-line errors that start with the op,
// refusal of foreign buffers and wrong dtypes, token and target ranges, and the plugin registration.

import Compute
import ReferenceBackend
import Testing

@Suite("Reference contract")
struct ContractTests {
    /// Runs `body`, expects a BackendError, and checks that its message starts with "op:".
    func expectError(_ op: String, _ body: () throws -> Void) {
        let error = #expect(throws: BackendError.self, "\(op) should throw") { try body() }
        if let error {
            #expect(error.description.hasPrefix("\(op):"), "\(op): message does not start with the op: \(error)")
            #expect(!error.description.contains("\n"), "\(op): message is not one line: \(error)")
        }
    }

    @Test("upload, download, copy, fill round-trip through sub-views")
    func memory() throws {
        let backend = ReferenceBackend()
        let buffer = try backend.makeBuffer([1, 2, 3, 4, 5, 6] as [Float])
        try backend.copy(from: buffer.view(offset: 0, count: 2), to: buffer.view(offset: 4, count: 2))
        try backend.fill(buffer.view(offset: 1, count: 2), with: -1)
        #expect(try backend.download(buffer.all) == [1, -1, -1, 4, 1, 2], "copy/fill on sub-views")
        let ints = try backend.makeBuffer([3, -7, 11] as [Int32])
        #expect(try backend.downloadInt32(ints.all) == [3, -7, 11], "int32 round trip")
        expectError("copy") { try backend.copy(from: buffer.view(offset: 0, count: 3), to: buffer.view(offset: 2, count: 3)) }
        expectError("upload") { try backend.upload([1, 2] as [Float], to: buffer.view(offset: 0, count: 3)) }
        expectError("download") { _ = try backend.download(ints.all) }
    }

    @Test("a view of another backend's buffer type is refused")
    func foreignBuffer() throws {
        let backend = ReferenceBackend()
        let foreign = ForeignBuffer(count: 4), ours = try backend.allocate(4, .float32)
        let error = #expect(throws: BackendError.self) { try backend.add(out: ours.all, a: ours.all, b: foreign.all) }
        guard case .wrongBuffer(let op, let reason)? = error else {
            Issue.record("add with a foreign view: expected wrongBuffer, got \(String(describing: error))")
            return
        }
        #expect(op == "add" && reason.contains("other"), "add with a foreign view: \(error!)")
        expectError("fill") { try backend.fill(foreign.all, with: 0) }
        expectError("copy") { try backend.copy(from: foreign.all, to: ours.all) }
    }

    @Test("an int32 view where float32 is expected is refused")
    func wrongDType() throws {
        let backend = ReferenceBackend()
        let ints = try backend.allocate(4, .int32), floats = try backend.allocate(4, .float32)
        let error = #expect(throws: BackendError.self) { try backend.geluForward(out: floats.all, input: ints.all) }
        if case .wrongBuffer? = error {} else { Issue.record("geluForward on int32: got \(String(describing: error))") }
    }

    @Test("embedding tokens outside 0..<V throw", arguments: [Int32(-1), 7, 100])
    func tokenOutOfRange(token: Int32) throws {
        let backend = ReferenceBackend()
        let table = try backend.allocate(7 * 3, .float32), out = try backend.allocate(2 * 3, .float32)
        let tokens = try backend.makeBuffer([0, token])
        let error = #expect(throws: BackendError.self) {
            try backend.embeddingForward(out: out.all, table: table.all, tokens: tokens.all, count: 2, dim: 3)
        }
        guard case .invalidArgument("embeddingForward", let reason)? = error else {
            Issue.record("embeddingForward token \(token): expected invalidArgument, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("\(token)"), "embeddingForward token \(token): message does not name it: \(reason)")
        expectError("embeddingBackward") {
            try backend.embeddingBackward(dtable: table.all, dout: out.all, tokens: tokens.all, count: 2, dim: 3)
        }
    }

    @Test("cross-entropy targets outside -1..<V throw")
    func targetOutOfRange() throws {
        let backend = ReferenceBackend()
        let logits = try backend.allocate(2 * 5, .float32), losses = try backend.allocate(2, .float32)
        let targets = try backend.makeBuffer([1, 5] as [Int32])
        expectError("crossEntropyForward") {
            try backend.crossEntropyForward(losses: losses.all, dlogits: nil, logits: logits.all, targets: targets.all,
                                            rows: 2, vocabulary: 5, gradientScale: 1)
        }
    }

    @Test("shape mismatches throw a one-line message starting with the op")
    func shapeMismatches() throws {
        let backend = ReferenceBackend()
        let six = try backend.allocate(6, .float32), five = try backend.allocate(5, .float32)
        let two = try backend.allocate(2, .float32), three = try backend.allocate(3, .float32)
        expectError("add") { try backend.add(out: six.all, a: six.all, b: five.all) }
        expectError("addBias") { try backend.addBias(out: six.all, bias: two.all, rows: 2, cols: 3) }
        expectError("biasBackward") { try backend.biasBackward(dbias: two.all, dout: six.all, rows: 2, cols: 3) }
        expectError("layerNormForward") {
            try backend.layerNormForward(out: six.all, mean: two.all, rstd: two.all, input: five.all,
                                         weight: three.all, bias: nil, rows: 2, cols: 3, epsilon: 1e-5)
        }
        expectError("rmsNormForward") {
            try backend.rmsNormForward(out: six.all, rstd: three.all, input: six.all, weight: three.all,
                                       rows: 2, cols: 3, epsilon: 1e-5)
        }
        expectError("swigluForward") { try backend.swigluForward(out: six.all, input: six.all, rows: 2, hidden: 3) }
        expectError("softmaxForward") { try backend.softmaxForward(out: five.all, input: six.all, rows: 2, cols: 3) }
        expectError("attentionForward") {
            try backend.attentionForward(out: six.all, logsumexp: two.all, qkv: six.all, batch: 1,
                                         sequenceLength: 2, heads: 1, headDim: 3)
        }
        expectError("ropeForward") {
            try backend.ropeForward(six.all, rows: 2, sequenceLength: 2, rowStride: 3, heads: 1, headDim: 3,
                                    theta: 10_000, positionOffset: 0)
        }
        expectError("dropoutForward") { try backend.dropoutForward(out: six.all, input: six.all, probability: 1, seed: 0) }
        expectError("adamW") {
            try backend.adamW(parameters: six.all, gradients: five.all, firstMoment: six.all, secondMoment: six.all,
                              learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0,
                              step: 1, gradientScale: 1)
        }
        expectError("squaredNorm") { try backend.squaredNorm(result: two.all, input: six.all) }
    }

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

    @Test("a profiler records one event per op with its name and flops")
    func profiler() throws {
        let backend = ReferenceBackend()
        backend.profiler = Profiler()
        let a = try backend.allocate(6, .float32), c = try backend.allocate(4, .float32)
        try backend.matmul(c: c.all, a: a.all, b: a.all, m: 2, n: 2, k: 3, transposeB: true)
        let event = backend.profiler?.events.last
        #expect(event?.name == "matmul" && event?.flops == 24, "matmul event: \(String(describing: event))")
    }
}
