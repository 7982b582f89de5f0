// Conformance case for strided batched GEMM: C_i = alpha op(A_i) op(B_i) + beta C_i.

import Compute

/// One matmul shape. Batches are laid out with gaps (stride = packed size + a few elements) that the
/// op must neither read into its result nor write: the gaps of C hold values that must survive.
///
/// Tolerance: the reference sums in Double; a backend summing k products in float32 is off by about
/// sqrt(k)·eps·|a||b| per element (k·eps worst case), while max|C| grows like sqrt(k)·|a||b| for
/// random inputs, so relative error (max|Δ|/max|C|) stays near eps·sqrt(k) ≤ 16·6e-8 ≈ 1e-6 for
/// k = 257. Bound: relative 2e-5, NMSE 1e-10 (room for blocked summation orders). With NaN/Inf inputs
/// only the non-finite positions matter and the finite ones keep the same bound.
public struct MatmulCase: OpCase {
    /// op(A) is m×k, op(B) k×n, C m×n.
    public let m: Int, n: Int, k: Int
    /// Whether A (B) is stored transposed, k×m (n×k).
    public let transposeA: Bool, transposeB: Bool
    /// C = alpha·op(A)·op(B) + beta·C; beta 0 means C starts as NaN and must be ignored.
    public let alpha: Float, beta: Float
    /// Matrices per call; above 1 they sit at strides with gaps that must survive.
    public let batch: Int
    /// Plants NaN and ±Inf in the inputs; they must come out at the positions the math puts them.
    public let nonFinite: Bool

    /// One GEMM shape; the defaults are a plain unbatched C = A·B.
    public init(m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
                alpha: Float = 1, beta: Float = 0, batch: Int = 1, nonFinite: Bool = false) {
        self.m = m
        self.n = n
        self.k = k
        self.transposeA = transposeA
        self.transposeB = transposeB
        self.alpha = alpha
        self.beta = beta
        self.batch = batch
        self.nonFinite = nonFinite
    }

    /// The `Op` raw value of the call under test (what `--op` selects by).
    public var op: String { Op.matmul.rawValue }
    /// Shape and options as `key=value` pairs, as the result line prints them.
    public var parameters: String {
        "m=\(m),n=\(n),k=\(k),tA=\(transposeA ? 1 : 0),tB=\(transposeB ? 1 : 0),alpha=\(alpha),beta=\(beta)"
            + ",batch=\(batch)" + (nonFinite ? ",nonfinite" : "")
    }
    /// Derived from `description`: the same case draws the same inputs on every run.
    public var seed: UInt64 { Self.seed(for: description) }
    /// True for the `nonFinite` variant only.
    public var injectsNonFinite: Bool { nonFinite }
    /// The bound derived in the type's doc comment.
    public var tolerance: Tolerance { Tolerance(nmse: 1e-10, relative: 2e-5) }

    /// Draws the seeded inputs and the guarded outputs through `harness`, then makes the one call
    /// under test on `harness.backend`.
    public func execute(_ harness: OpHarness) throws {
        // Gaps between batch items only when there is more than one (stride 0 is legal for batch 1).
        let gap = batch > 1 ? 3 : 0
        let sizeA = m * k, sizeB = k * n, sizeC = m * n
        let strideA = batch > 1 ? sizeA + gap : 0
        let strideB = batch > 1 ? sizeB + gap : 0
        let strideC = batch > 1 ? sizeC + gap : 0
        var a = harness.uniform(strideA * (batch - 1) + sizeA)
        var b = harness.uniform(strideB * (batch - 1) + sizeB)
        if nonFinite {
            harness.injectNonFinite(&a, count: 3)
            harness.injectNonFinite(&b, count: 2)
        }
        // C: gaps hold finite values that must survive; with beta == 0 the matrices start as NaN,
        // which the contract says must be ignored.
        var c = harness.uniform(strideC * (batch - 1) + sizeC)
        if beta == 0 {
            for i in 0..<batch { for j in 0..<sizeC { c[i * strideC + j] = .nan } }
        }
        let viewA = try harness.input("a", a)
        let viewB = try harness.input("b", b)
        let viewC = try harness.output("c", initial: c)
        try harness.backend.matmul(c: viewC, a: viewA, b: viewB, m: m, n: n, k: k,
                                   transposeA: transposeA, transposeB: transposeB, alpha: alpha, beta: beta,
                                   batch: batch, strideA: strideA, strideB: strideB, strideC: strideC)
    }

    /// Square sizes 1…257 (all four transposes up to 65), non-square shapes with every transpose
    /// and alpha/beta other than 0/1, strided batches, and NaN/Inf propagation.
    static func catalogue(extended: Bool) -> [any ConformanceCase] {
        var cases: [any ConformanceCase] = []
        let transposes = [(false, false), (true, false), (false, true), (true, true)]
        for size in [1, 3, 17, 65] {
            for (tA, tB) in transposes { cases.append(MatmulCase(m: size, n: size, k: size, transposeA: tA, transposeB: tB)) }
        }
        cases.append(MatmulCase(m: 127, n: 127, k: 127))
        cases.append(MatmulCase(m: 127, n: 127, k: 127, transposeA: true, transposeB: false, alpha: 0.5, beta: 1))
        cases.append(MatmulCase(m: 257, n: 257, k: 257, transposeA: false, transposeB: true))
        cases.append(MatmulCase(m: 257, n: 257, k: 257, transposeA: true, transposeB: true, alpha: -1, beta: 0.5))
        let scalars: [(Float, Float)] = [(1, 0), (0.5, 1.5), (-2, 1), (1, 0.25)]
        // The last two are big enough for a CPU backend to cut one product into bands of rows
        // (m >= n) or of columns (n > m), with edges off the 16-row grid.
        let shapes = [(17, 65, 3), (65, 3, 127), (1, 257, 17), (127, 1, 65), (3, 17, 257), (257, 65, 1),
                      (45, 301, 37), (301, 45, 37)]
        for (index, shape) in shapes.enumerated() {
            for (t, (tA, tB)) in transposes.enumerated() {
                let (alpha, beta) = scalars[(index + t) % scalars.count]
                cases.append(MatmulCase(m: shape.0, n: shape.1, k: shape.2, transposeA: tA, transposeB: tB,
                                        alpha: alpha, beta: beta))
            }
        }
        // Weight-gradient shapes, Aᵀ B much deeper than C is wide or tall: a CPU backend may cut
        // the depth (k) among its threads and sum the parts, with part edges off the 16-row grid.
        cases.append(MatmulCase(m: 37, n: 45, k: 301, transposeA: true, transposeB: false))
        cases.append(MatmulCase(m: 45, n: 37, k: 333, transposeA: true, transposeB: false, alpha: 0.5, beta: 1))
        let batched = [(3, 17, 65, 3), (2, 65, 17, 127), (4, 1, 3, 17)]
        for (index, shape) in batched.enumerated() {
            for (t, (tA, tB)) in transposes.enumerated() {
                let (alpha, beta) = scalars[(index + t) % scalars.count]
                cases.append(MatmulCase(m: shape.1, n: shape.2, k: shape.3, transposeA: tA, transposeB: tB,
                                        alpha: alpha, beta: beta, batch: shape.0))
            }
        }
        cases.append(MatmulCase(m: 17, n: 17, k: 17, transposeB: true, nonFinite: true))
        cases.append(MatmulCase(m: 3, n: 65, k: 17, transposeA: true, alpha: 0.5, beta: 1, batch: 2, nonFinite: true))
        if extended {
            // Model-sized shapes (shakespeare-char: C = 384, 4C = 1536, B*T = 512 rows per chunk).
            cases.append(MatmulCase(m: 512, n: 1536, k: 384, transposeB: true))
            cases.append(MatmulCase(m: 384, n: 1536, k: 512, transposeA: true, beta: 1))
            cases.append(MatmulCase(m: 511, n: 509, k: 1021, transposeA: true, transposeB: true, alpha: 0.5, beta: 0.5))
            cases.append(MatmulCase(m: 256, n: 256, k: 64, transposeB: true, batch: 12))
        }
        return cases
    }
}
