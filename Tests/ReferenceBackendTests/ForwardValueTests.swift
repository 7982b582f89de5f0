// Forward values against independent formulas: the gradient checks only prove that backward matches
// forward, so each forward is pinned here (elementwise ops by known values, norms and embedding by a
// Double recomputation in the test).

import Compute
import ReferenceBackend
import Testing

@Suite("Reference forward values")
struct ForwardValueTests {
    @Test("add, addScaled, scale and addBias, including aliased outputs")
    func elementwise() throws {
        let backend = ReferenceBackend()
        let a = try backend.makeBuffer([1, 2, 3, 4, 5, 6] as [Float]), b = try backend.makeBuffer([10, 20, 30, 40, 50, 60] as [Float])
        try backend.add(out: a.all, a: a.all, b: b.all)
        #expect(try backend.download(a.all) == [11, 22, 33, 44, 55, 66], "add with out aliasing a")
        try backend.addScaled(into: a.all, b.all, alpha: -0.5)
        #expect(try backend.download(a.all) == [6, 12, 18, 24, 30, 36], "addScaled alpha -0.5")
        try backend.scale(a.all, by: 0.5)
        #expect(try backend.download(a.all) == [3, 6, 9, 12, 15, 18], "scale by 0.5")
        try backend.addBias(out: a.all, bias: backend.makeBuffer([1, -1, 100] as [Float]).all, rows: 2, cols: 3)
        #expect(try backend.download(a.all) == [4, 5, 109, 13, 14, 118], "addBias rows=2 cols=3")
    }

    @Test("gelu (tanh approximation), relu and swiglu at known points")
    func activations() throws {
        let backend = ReferenceBackend()
        let x: [Float] = [-2, -0.5, 0, 1, 3]
        let buffer = try backend.makeBuffer(x), out = try backend.allocate(5, .float32)
        try backend.geluForward(out: out.all, input: buffer.all)
        let expected = [-0.04540230591222494, -0.15428599017485606, 0, 0.8411919906082768, 2.996362607918227]
        let error = maxRelativeError(try backend.download(out.all), expected)
        #expect(error < 1e-6, "geluForward at \(x): relative error \(error)")
        try backend.reluForward(out: buffer.all, input: buffer.all)
        #expect(try backend.download(buffer.all) == [0, 0, 0, 1, 3], "reluForward aliased")
        // Rows (g | u): silu(1) * 2 and silu(-2) * 0.5.
        let gateUp = try backend.makeBuffer([1, 2, -2, 0.5] as [Float]), swiglu = try backend.allocate(2, .float32)
        try backend.swigluForward(out: swiglu.all, input: gateUp.all, rows: 2, hidden: 1)
        let swigluError = maxRelativeError(try backend.download(swiglu.all), [1.4621171572600098, -0.11920292202211755])
        #expect(swigluError < 1e-6, "swigluForward N=2 F=1: relative error \(swigluError)")
    }

    @Test("layerNorm and rmsNorm against Double recomputation", arguments: RowsCols.small)
    func norms(_ shape: RowsCols) throws {
        var f = Fixture(seed: 51)
        let (n, c) = (shape.rows, shape.cols)
        let x = f.normal(n * c, scale: 2, shift: 1), w = f.normal(c), b = f.normal(c)
        let out = try f.backend.allocate(n * c, .float32)
        let mean = try f.backend.allocate(n, .float32), rstd = try f.backend.allocate(n, .float32)
        try f.backend.layerNormForward(out: out.all, mean: mean.all, rstd: rstd.all, input: f.buffer(x).all,
                                       weight: f.buffer(w).all, bias: f.buffer(b).all, rows: n, cols: c, epsilon: 1e-5)
        var layer = [Double](), means = [Double](), rstds = [Double](), rms = [Double](), rmsRstds = [Double]()
        for r in 0..<n {
            let row = x[(r * c)..<((r + 1) * c)].map(Double.init)
            let mu = row.reduce(0, +) / Double(c)
            let variance = row.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(c)
            let s = 1 / (variance + 1e-5).squareRoot()
            layer += row.indices.map { (row[$0] - mu) * s * Double(w[$0]) + Double(b[$0]) }
            means.append(mu)
            rstds.append(s)
            let rs = 1 / (row.reduce(0) { $0 + $1 * $1 } / Double(c) + 1e-5).squareRoot()
            rms += row.indices.map { row[$0] * rs * Double(w[$0]) }
            rmsRstds.append(rs)
        }
        let context = "\(shape) seed \(f.seed)"
        #expect(maxRelativeError(try f.read(out), layer) < 1e-5, "layerNormForward \(context): out")
        #expect(maxRelativeError(try f.read(mean), means) < 1e-6, "layerNormForward \(context): mean")
        #expect(maxRelativeError(try f.read(rstd), rstds) < 1e-6, "layerNormForward \(context): rstd")
        try f.backend.rmsNormForward(out: out.all, rstd: rstd.all, input: f.buffer(x).all, weight: f.buffer(w).all,
                                     rows: n, cols: c, epsilon: 1e-5)
        #expect(maxRelativeError(try f.read(out), rms) < 1e-5, "rmsNormForward \(context): out")
        #expect(maxRelativeError(try f.read(rstd), rmsRstds) < 1e-6, "rmsNormForward \(context): rstd")
    }

    @Test("embedding forward gathers table rows")
    func embedding() throws {
        let backend = ReferenceBackend()
        let table = try backend.makeBuffer([0, 1, 10, 11, 20, 21] as [Float])  // V=3, C=2
        let out = try backend.allocate(8, .float32)
        try backend.embeddingForward(out: out.all, table: table.all, tokens: backend.makeBuffer([2, 0, 2, 1] as [Int32]).all,
                                     count: 4, dim: 2)
        #expect(try backend.download(out.all) == [20, 21, 0, 1, 20, 21, 10, 11], "embeddingForward N=4 V=3 C=2")
    }
}
