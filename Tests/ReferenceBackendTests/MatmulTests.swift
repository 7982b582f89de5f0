// Matmul against a naive triple loop in Double: all four transpose combinations, strided batches
// with gaps that must stay untouched, alpha/beta, and beta == 0 ignoring NaN in C.

import Compute
import ReferenceBackend
import Testing

struct MatmulCase: CustomStringConvertible, Sendable {
    let m: Int, n: Int, k: Int
    let transposeA: Bool, transposeB: Bool
    var description: String { "m=\(m) n=\(n) k=\(k) tA=\(transposeA) tB=\(transposeB)" }

    static let shapes = [(1, 1, 1), (3, 17, 65), (17, 65, 3), (65, 3, 17), (8, 6, 16)]
    static let all: [MatmulCase] = shapes.flatMap { shape in
        [(false, false), (false, true), (true, false), (true, true)].map {
            MatmulCase(m: shape.0, n: shape.1, k: shape.2, transposeA: $0.0, transposeB: $0.1)
        }
    }
}

/// C_i = alpha op(A_i) op(B_i) + beta C_i for each batch, in Double, with the backend's layouts.
func naiveMatmul(_ c: [Float], _ a: [Float], _ b: [Float], _ shape: MatmulCase, alpha: Double, beta: Double,
                 batch: Int, strideA: Int, strideB: Int, strideC: Int) -> [Double] {
    var result = c.map(Double.init)
    let (m, n, k) = (shape.m, shape.n, shape.k)
    for bi in 0..<batch {
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let x = shape.transposeA ? a[bi * strideA + p * m + i] : a[bi * strideA + i * k + p]
                    let y = shape.transposeB ? b[bi * strideB + j * k + p] : b[bi * strideB + p * n + j]
                    sum += Double(x) * Double(y)
                }
                let index = bi * strideC + i * n + j
                result[index] = beta == 0 ? alpha * sum : alpha * sum + beta * Double(c[index])
            }
        }
    }
    return result
}

@Suite("Reference matmul")
struct MatmulTests {
    @Test("single matmul matches the naive loop", arguments: MatmulCase.all)
    func single(_ shape: MatmulCase) throws {
        var f = Fixture(seed: 11)
        let a = f.normal(shape.m * shape.k), b = f.normal(shape.k * shape.n), c = f.normal(shape.m * shape.n)
        let cBuffer = try f.buffer(c)
        try f.backend.matmul(c: cBuffer.all, a: f.buffer(a).all, b: f.buffer(b).all, m: shape.m, n: shape.n,
                             k: shape.k, transposeA: shape.transposeA, transposeB: shape.transposeB)
        let expected = naiveMatmul(c, a, b, shape, alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0)
        let error = maxRelativeError(try f.read(cBuffer), expected)
        #expect(error < 1e-6, "matmul \(shape) seed \(f.seed): max relative error \(error)")
    }

    @Test("batch 3 with gapped strides, alpha 0.5, beta 1.5", arguments: MatmulCase.all)
    func batched(_ shape: MatmulCase) throws {
        var f = Fixture(seed: 12)
        let (m, n, k, batch) = (shape.m, shape.n, shape.k, 3)
        // Gaps between matrices: the op must neither read A/B gaps into C nor write C's gaps.
        let strideA = m * k + 2, strideB = k * n + 5, strideC = m * n + 3
        let a = f.normal(batch * strideA), b = f.normal(batch * strideB), c = f.normal(batch * strideC)
        let cBuffer = try f.buffer(c)
        try f.backend.matmul(c: cBuffer.all, a: f.buffer(a).all, b: f.buffer(b).all, m: m, n: n, k: k,
                             transposeA: shape.transposeA, transposeB: shape.transposeB, alpha: 0.5, beta: 1.5,
                             batch: batch, strideA: strideA, strideB: strideB, strideC: strideC)
        let expected = naiveMatmul(c, a, b, shape, alpha: 0.5, beta: 1.5, batch: batch,
                                   strideA: strideA, strideB: strideB, strideC: strideC)
        let error = maxRelativeError(try f.read(cBuffer), expected)
        #expect(error < 1e-6, "matmul batched \(shape) seed \(f.seed): max relative error \(error)")
    }

    @Test("beta 0 ignores NaN in C", arguments: [MatmulCase.all[4], MatmulCase.all[11], MatmulCase.all[19]])
    func betaZeroIgnoresNaN(_ shape: MatmulCase) throws {
        var f = Fixture(seed: 13)
        let a = f.normal(shape.m * shape.k), b = f.normal(shape.k * shape.n)
        let c = [Float](repeating: .nan, count: shape.m * shape.n)
        let cBuffer = try f.buffer(c)
        try f.backend.matmul(c: cBuffer.all, a: f.buffer(a).all, b: f.buffer(b).all, m: shape.m, n: shape.n,
                             k: shape.k, transposeA: shape.transposeA, transposeB: shape.transposeB,
                             alpha: 2, beta: 0)
        let result = try f.read(cBuffer)
        let expected = naiveMatmul(c, a, b, shape, alpha: 2, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0)
        #expect(!result.contains { $0.isNaN }, "matmul beta=0 \(shape) seed \(f.seed): NaN leaked from C")
        #expect(maxRelativeError(result, expected) < 1e-6, "matmul beta=0 \(shape) seed \(f.seed): wrong values")
    }

    @Test("too-small operands throw a shape mismatch naming matmul")
    func shapeMismatch() throws {
        let f = Fixture(seed: 14)
        let a = try f.backend.allocate(6, .float32), b = try f.backend.allocate(6, .float32)
        let c = try f.backend.allocate(3, .float32)
        let error = #expect(throws: BackendError.self) {
            try f.backend.matmul(c: c.all, a: a.all, b: b.all, m: 2, n: 2, k: 3)
        }
        #expect(error?.description.hasPrefix("matmul:") == true, "got \(String(describing: error))")
    }
}
