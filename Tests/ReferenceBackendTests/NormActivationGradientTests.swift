// Finite-difference checks for the norm and activation backward ops: the analytic gradient of
// L = sum(forward(x) * R), computed by each backward op with dout = R, must match central
// differences of the backend's own forward. Accumulating ops start from random gradients (the test
// subtracts them); overwriting ops start from garbage (which must vanish).

import Compute
import ReferenceBackend
import Testing

struct RowsCols: CustomStringConvertible, Sendable {
    let rows: Int, cols: Int
    var description: String { "N=\(rows) C=\(cols)" }
    static let small = [RowsCols(rows: 1, cols: 3), RowsCols(rows: 3, cols: 17), RowsCols(rows: 2, cols: 65)]
}

@Suite("Reference gradients: norms and activations")
struct NormActivationGradientTests {
    @Test("layerNorm backward (input, weight, bias)", arguments: RowsCols.small)
    func layerNorm(_ shape: RowsCols) throws {
        var f = Fixture(seed: 21)
        let backend = f.backend, (n, c) = (shape.rows, shape.cols)
        let x = f.normal(n * c, scale: 1.5, shift: 0.3), w = f.normal(c, shift: 1), b = f.normal(c)
        let r = f.normal(n * c)
        let context = "layerNormBackward \(shape) seed \(f.seed)"
        let mean = try backend.allocate(n, .float32), rstd = try backend.allocate(n, .float32)
        func forward(_ x: [Float], _ w: [Float], _ b: [Float]) throws -> [Float] {
            let out = try backend.allocate(n * c, .float32)
            try backend.layerNormForward(out: out.all, mean: mean.all, rstd: rstd.all,
                                         input: backend.makeBuffer(x).all, weight: backend.makeBuffer(w).all,
                                         bias: backend.makeBuffer(b).all, rows: n, cols: c, epsilon: 1e-5)
            return try backend.download(out.all)
        }
        _ = try forward(x, w, b)  // leaves mean/rstd of the unperturbed input
        let dx0 = f.normal(n * c), dw0 = f.normal(c), db0 = f.normal(c)
        let dx = try backend.makeBuffer(dx0), dw = try backend.makeBuffer(dw0), db = try backend.makeBuffer(db0)
        try backend.layerNormBackward(dinput: dx.all, dweight: dw.all, dbias: db.all, dout: backend.makeBuffer(r).all,
                                      input: backend.makeBuffer(x).all, weight: backend.makeBuffer(w).all,
                                      mean: mean.all, rstd: rstd.all, rows: n, cols: c)
        try expectGradient(context, input: "input", values: x, analytic: difference(try f.read(dx), dx0),
                           indices: f.sample(x.count)) { try weightedSum(forward($0, w, b), r) }
        try expectGradient(context, input: "weight", values: w, analytic: difference(try f.read(dw), dw0),
                           indices: f.sample(w.count)) { try weightedSum(forward(x, $0, b), r) }
        try expectGradient(context, input: "bias", values: b, analytic: difference(try f.read(db), db0),
                           indices: f.sample(b.count)) { try weightedSum(forward(x, w, $0), r) }
    }

    @Test("rmsNorm backward (input, weight)", arguments: RowsCols.small)
    func rmsNorm(_ shape: RowsCols) throws {
        var f = Fixture(seed: 22)
        let backend = f.backend, (n, c) = (shape.rows, shape.cols)
        let x = f.normal(n * c, shift: 0.2), w = f.normal(c, shift: 1), r = f.normal(n * c)
        let context = "rmsNormBackward \(shape) seed \(f.seed)"
        let rstd = try backend.allocate(n, .float32)
        func forward(_ x: [Float], _ w: [Float]) throws -> [Float] {
            let out = try backend.allocate(n * c, .float32)
            try backend.rmsNormForward(out: out.all, rstd: rstd.all, input: backend.makeBuffer(x).all,
                                       weight: backend.makeBuffer(w).all, rows: n, cols: c, epsilon: 1e-5)
            return try backend.download(out.all)
        }
        _ = try forward(x, w)
        let dx0 = f.normal(n * c), dw0 = f.normal(c)
        let dx = try backend.makeBuffer(dx0), dw = try backend.makeBuffer(dw0)
        try backend.rmsNormBackward(dinput: dx.all, dweight: dw.all, dout: backend.makeBuffer(r).all,
                                    input: backend.makeBuffer(x).all, weight: backend.makeBuffer(w).all,
                                    rstd: rstd.all, rows: n, cols: c)
        try expectGradient(context, input: "input", values: x, analytic: difference(try f.read(dx), dx0),
                           indices: f.sample(x.count)) { try weightedSum(forward($0, w), r) }
        try expectGradient(context, input: "weight", values: w, analytic: difference(try f.read(dw), dw0),
                           indices: f.sample(w.count)) { try weightedSum(forward(x, $0), r) }
    }

    enum Pointwise: String, CaseIterable, Sendable { case gelu, relu, dropout }

    @Test("elementwise activation backward", arguments: Pointwise.allCases, [1, 17, 65])
    func pointwise(_ activation: Pointwise, count: Int) throws {
        var f = Fixture(seed: 23)
        let backend = f.backend
        var x = f.normal(count, scale: 2)
        // ReLU has a kink at 0: keep every input at least 5 eps away so no difference straddles it.
        if activation == .relu { x = x.map { abs($0) < 0.05 ? $0 + ($0 < 0 ? -0.1 : 0.1) : $0 } }
        let r = f.normal(count)
        let context = "\(activation)Backward n=\(count) seed \(f.seed)"
        let seed: UInt64 = 99, probability: Float = 0.3
        func forward(_ x: [Float]) throws -> [Float] {
            let input = try backend.makeBuffer(x), out = try backend.allocate(count, .float32)
            switch activation {
            case .gelu: try backend.geluForward(out: out.all, input: input.all)
            case .relu: try backend.reluForward(out: out.all, input: input.all)
            case .dropout: try backend.dropoutForward(out: out.all, input: input.all, probability: probability, seed: seed)
            }
            return try backend.download(out.all)
        }
        let dx = try backend.makeBuffer([Float](repeating: 7, count: count))  // garbage: overwritten
        let dout = try backend.makeBuffer(r), input = try backend.makeBuffer(x)
        switch activation {
        case .gelu: try backend.geluBackward(dinput: dx.all, dout: dout.all, input: input.all)
        case .relu: try backend.reluBackward(dinput: dx.all, dout: dout.all, input: input.all)
        case .dropout: try backend.dropoutBackward(dinput: dx.all, dout: dout.all, probability: probability, seed: seed)
        }
        try expectGradient(context, input: "input", values: x, analytic: try f.read(dx),
                           indices: f.sample(count)) { try weightedSum(forward($0), r) }
    }

    @Test("swiglu backward (gate and up)", arguments: RowsCols.small)
    func swiglu(_ shape: RowsCols) throws {
        var f = Fixture(seed: 24)
        let backend = f.backend, (n, hidden) = (shape.rows, shape.cols)
        let x = f.normal(n * 2 * hidden, scale: 1.5), r = f.normal(n * hidden)
        let context = "swigluBackward N=\(n) F=\(hidden) seed \(f.seed)"
        func forward(_ x: [Float]) throws -> [Float] {
            let out = try backend.allocate(n * hidden, .float32)
            try backend.swigluForward(out: out.all, input: backend.makeBuffer(x).all, rows: n, hidden: hidden)
            return try backend.download(out.all)
        }
        let dx = try backend.makeBuffer([Float](repeating: 7, count: x.count))
        try backend.swigluBackward(dinput: dx.all, dout: backend.makeBuffer(r).all, input: backend.makeBuffer(x).all,
                                   rows: n, hidden: hidden)
        try expectGradient(context, input: "input", values: x, analytic: try f.read(dx),
                           indices: f.sample(x.count)) { try weightedSum(forward($0), r) }
    }

    @Test("biasBackward is the gradient of addBias", arguments: RowsCols.small)
    func bias(_ shape: RowsCols) throws {
        var f = Fixture(seed: 25)
        let backend = f.backend, (n, c) = (shape.rows, shape.cols)
        let x = f.normal(n * c), b = f.normal(c), r = f.normal(n * c)
        let context = "biasBackward \(shape) seed \(f.seed)"
        func forward(_ b: [Float]) throws -> [Float] {
            let out = try backend.makeBuffer(x)
            try backend.addBias(out: out.all, bias: backend.makeBuffer(b).all, rows: n, cols: c)
            return try backend.download(out.all)
        }
        let db0 = f.normal(c), db = try backend.makeBuffer(db0)
        try backend.biasBackward(dbias: db.all, dout: backend.makeBuffer(r).all, rows: n, cols: c)
        try expectGradient(context, input: "bias", values: b, analytic: difference(try f.read(db), db0),
                           indices: f.sample(c)) { try weightedSum(forward($0), r) }
    }
}
