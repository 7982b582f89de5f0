// Shared helpers for the reference backend tests: seeded random data, upload/download shorthands,
// and the central-difference gradient checker used by the gradient tests.

import Compute
import ReferenceBackend
import Testing

/// Seeded test data and one backend instance.
struct Fixture {
    let backend = ReferenceBackend()
    var rng: SplitMix64
    let seed: UInt64

    init(seed: UInt64) {
        self.seed = seed
        rng = SplitMix64(seed: seed)
    }

    /// `count` normal values times `scale`, plus `shift`.
    mutating func normal(_ count: Int, scale: Double = 1, shift: Double = 0) -> [Float] {
        (0..<count).map { _ in Float(rng.nextNormal() * scale + shift) }
    }

    /// Uniform in lower..<upper.
    mutating func uniform(_ count: Int, _ lower: Double, _ upper: Double) -> [Float] {
        (0..<count).map { _ in Float(lower + (upper - lower) * rng.nextUniform()) }
    }

    /// Up to `limit` distinct indices in 0..<count (all of them when count <= limit), sorted.
    mutating func sample(_ count: Int, limit: Int = 40) -> [Int] {
        guard count > limit else { return Array(0..<count) }
        var chosen = Set<Int>()
        while chosen.count < limit { chosen.insert(Int(rng.next() % UInt64(count))) }
        return chosen.sorted()
    }

    func buffer(_ values: [Float]) throws -> Buffer { try backend.makeBuffer(values) }
    func buffer(_ values: [Int32]) throws -> Buffer { try backend.makeBuffer(values) }
    func read(_ buffer: Buffer) throws -> [Float] { try backend.download(buffer.all) }
}

/// sum(x * r), accumulated in Double: the scalar loss L the gradient checks differentiate.
func weightedSum(_ x: [Float], _ r: [Float]) -> Double {
    precondition(x.count == r.count)
    var sum = 0.0
    for i in x.indices { sum += Double(x[i]) * Double(r[i]) }
    return sum
}

/// Why these numbers: the loss is evaluated in Double from Float outputs, so its rounding noise is
/// about 1e-7 * sqrt(N) * |out|; divided by 2 eps = 2e-2 that is ~1e-5. The central difference's
/// truncation error is eps^2 / 6 * |f'''| ~ 2e-5 * |f'''| for smooth ops. A wrong formula is off by
/// O(|gradient|), so 5e-3 * max(1, |analytic|) separates the two by orders of magnitude.
let gradientEpsilon: Float = 1e-2
let gradientTolerance = 5e-3

/// Compares `analytic` with central differences of `loss` at `indices` of `values`; records one
/// issue listing the first few mismatches, labelled with `context` (op, shape, seed) and the input.
func expectGradient(_ context: String, input name: String, values: [Float], analytic: [Float],
                    indices: [Int], epsilon: Float = gradientEpsilon,
                    tolerance: Double = gradientTolerance,
                    loss: ([Float]) throws -> Double) throws {
    #expect(analytic.count == values.count,
            "\(context): d\(name) has \(analytic.count) elements, want \(values.count)")
    guard analytic.count == values.count else { return }
    var mismatches: [String] = []
    for index in indices {
        var plus = values, minus = values
        plus[index] += epsilon
        minus[index] -= epsilon
        let step = Double(plus[index]) - Double(minus[index])  // the exact Float perturbation
        let numeric = (try loss(plus) - loss(minus)) / step
        let exact = Double(analytic[index])
        if !(abs(numeric - exact) <= tolerance * max(1, abs(exact))) {
            mismatches.append("[\(index)] analytic \(exact) vs numeric \(numeric)")
        }
    }
    #expect(mismatches.isEmpty,
            "\(context): d\(name) disagrees with finite differences at \(mismatches.count) of \(indices.count) elements: \(mismatches.prefix(4).joined(separator: ", "))")
}

/// Largest |a - b| / max(1, |b|).
func maxRelativeError(_ a: [Float], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    var worst = 0.0
    for i in a.indices { worst = max(worst, abs(Double(a[i]) - b[i]) / max(1, abs(b[i]))) }
    return worst
}

/// `after - before`, elementwise: what an accumulating op added.
func difference(_ after: [Float], _ before: [Float]) -> [Float] {
    zip(after, before).map { $0 - $1 }
}
