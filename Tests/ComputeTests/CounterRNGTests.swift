// The counter-based RNG is a pure function of (seed, index): the property every backend's dropout
// relies on. These values are pinned so a change to the hash (which would desynchronise the
// OpenCL kernels from the Swift backends) fails loudly.

import Compute
import Testing

@Suite("Counter RNG")
struct CounterRNGTests {
    @Test func sameInputsSameOutput() {
        for index: UInt32 in [0, 1, 77, 1 << 31] {
            #expect(CounterRNG.bits(seed: 42, index: index) == CounterRNG.bits(seed: 42, index: index))
        }
        #expect(CounterRNG.bits(seed: 42, index: 0) != CounterRNG.bits(seed: 43, index: 0))
        #expect(CounterRNG.bits(seed: 42, index: 0) != CounterRNG.bits(seed: 42 | (1 << 40), index: 0))
    }

    /// Values computed independently (Python, from the recipe in CounterRNG.swift).
    @Test func pinnedValues() {
        #expect(CounterRNG.hash32(0) == 0)
        let values = (0..<4).map { CounterRNG.bits(seed: 1234, index: UInt32($0)) }
        #expect(values == [0x29d5_8357, 0x043b_06d4, 0xa609_de6c, 0xa3b2_7e75], "CounterRNG changed: \(values)")
    }

    @Test func uniformIsInUnitIntervalWithTheRightMean() {
        var sum = 0.0
        let n = 100_000
        for i in 0..<n {
            let u = CounterRNG.uniform(seed: 7, index: UInt32(i))
            #expect(u >= 0 && u < 1)
            sum += Double(u)
        }
        #expect(abs(sum / Double(n) - 0.5) < 0.005)
    }

    @Test func splitMixNormalHasUnitVariance() {
        var rng = SplitMix64(seed: 3)
        var sum = 0.0, sumSquares = 0.0
        for _ in 0..<50_000 {
            let x = rng.nextNormal()
            sum += x
            sumSquares += x * x
        }
        #expect(abs(sum / 50_000) < 0.02)
        #expect(abs(sumSquares / 50_000 - 1) < 0.03)
    }
}
