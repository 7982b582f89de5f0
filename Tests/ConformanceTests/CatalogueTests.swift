// Checks on the catalogue itself: it covers every protocol op and every shape the suite promises, and
// its case names (and so its seeds) are unique.

import Compute
import Conformance
import Testing

@Suite("Conformance catalogue")
struct CatalogueTests {
    let cases = Catalogue.standard

    @Test("every protocol op has a case")
    func coversEveryOp() {
        let covered = Set(cases.map(\.op))
        for op in Op.allCases {
            #expect(covered.contains(op.rawValue), "no conformance case for \(op.rawValue)")
        }
    }

    @Test("case names and seeds are unique")
    func namesAreUnique() {
        var names = Set<String>(), seeds = Set<UInt64>()
        for testCase in cases {
            #expect(names.insert(testCase.description).inserted, "duplicate case \(testCase.description)")
            seeds.insert(testCase.seed)
        }
        #expect(seeds.count == cases.count, "two cases share a seed")
    }

    @Test("matmul covers awkward sizes, all transposes, batches and alpha/beta")
    func matmulShapes() {
        let matmuls = cases.compactMap { $0 as? MatmulCase }
        for size in [1, 3, 17, 65, 127, 257] {
            #expect(matmuls.contains { $0.m == size && $0.n == size && $0.k == size }, "no square matmul of \(size)")
        }
        for tA in [false, true] {
            for tB in [false, true] {
                #expect(matmuls.contains { $0.transposeA == tA && $0.transposeB == tB && $0.batch > 1 })
            }
        }
        #expect(matmuls.contains { $0.alpha != 1 && $0.beta != 0 && $0.beta != 1 })
        #expect(matmuls.contains { $0.m != $0.n && $0.n != $0.k })
        #expect(matmuls.contains { $0.nonFinite })
    }

    @Test("attention covers sequence lengths off every tile size and head sizes 16, 40, 64, 72")
    func attentionShapes() {
        let attention = cases.compactMap { $0 as? AttentionCase }
        for backward in [false, true] {
            for length in [1, 17, 65, 127, 257] {
                #expect(attention.contains { $0.backward == backward && $0.sequenceLength == length })
            }
            for headDim in [16, 40, 64, 72] {
                #expect(attention.contains { $0.backward == backward && $0.headDim == headDim })
            }
        }
    }

    @Test("attention and KV-cache attention cover KVH = NH, groups of 2 and 3, and multi-query")
    func groupedQueryShapes() {
        let attention = cases.compactMap { $0 as? AttentionCase }
        let cached = cases.compactMap { $0 as? AttentionCachedCase }
        for backward in [false, true] {
            let heads = attention.filter { $0.backward == backward }.map { (nh: $0.heads, kvh: $0.kvHeads) }
            #expect(heads.contains { $0.kvh == $0.nh && $0.nh > 1 }, "backward \(backward): no ungrouped case")
            for group in [2, 3] {
                #expect(heads.contains { $0.kvh > 1 && $0.nh == group * $0.kvh },
                        "backward \(backward): no group of \(group)")
            }
            #expect(heads.contains { $0.kvh == 1 && $0.nh > 1 }, "backward \(backward): no multi-query case")
        }
        let cachedHeads = cached.map { (nh: $0.heads, kvh: $0.kvHeads) }
        #expect(cachedHeads.contains { $0.kvh == $0.nh && $0.nh > 1 })
        #expect(cachedHeads.contains { $0.kvh > 1 && $0.nh == 2 * $0.kvh })
        #expect(cachedHeads.contains { $0.kvh > 1 && $0.nh == 3 * $0.kvh })
        #expect(cachedHeads.contains { $0.kvh == 1 && $0.nh > 1 })
    }

    @Test("whole-model cases cover every architecture option")
    func modelVariants() {
        // Read from the parameter strings: this target does not import GPT (where ModelConfig lives).
        let models = cases.filter { $0.op == "model" }.map { "," + $0.parameters + "," }
        let options = ["norm=layer", "norm=rms", "act=relu", "act=gelu", "act=swiglu", "pos=learned",
                       "pos=sinusoidal", "pos=rope", "tied=0", "tied=1", "bias=0", "bias=1", "dropout=0.1",
                       "NH=4,KVH=2", "NH=3,KVH=1", "hs=10"]
        for option in options {
            #expect(models.contains { $0.contains("," + option + ",") }, "no model case with \(option)")
        }
    }

    @Test("--op selects by prefix, case-insensitively")
    func opFilter() {
        let attention = Catalogue.filter(cases, op: "Attention")
        #expect(!attention.isEmpty)
        #expect(attention.allSatisfy { $0.op.hasPrefix("attention") })
        #expect(Catalogue.filter(cases, op: nil).count == cases.count)
        #expect(Catalogue.filter(cases, op: "nosuchop").isEmpty)
    }

    @Test("the extended catalogue adds larger cases")
    func extendedIsLarger() {
        #expect(Catalogue.extended.count > cases.count)
    }
}
