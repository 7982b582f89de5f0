// The one list of backends the conformance tests check against the reference, and the test matrix
// built from it: every (available backend, catalogue case) pair, each its own parameterized test case.

import Compute
import Testing
import Conformance
import ReferenceBackend
import BLASBackend
import OpenCLBackend

/// Every backend plugin under test. Add a new backend's plugin here.
/// Unavailable ones (no OpenBLAS, no GPU) drop out of the matrix; `ConformanceSuite` reports why.
let pluginsUnderTest: [BackendPlugin] = [ReferenceBackend.plugin, BLASBackend.plugin, OpenCLBackend.plugin]
    + (VectorKernels.fastest(on: .current) == .portable ? [] : [blasPortable])

/// The BLAS backend forced onto its portable vector kernels: where this CPU gets the AVX2 build,
/// the fallback every other x86-64 CPU runs is held to the reference too.
let blasPortable = BackendPlugin(
    name: "blas-portable", summary: "the BLAS backend with its portable vector kernels", priority: 0,
    probe: BLASBackend.plugin.probe,
    make: { options in try BLASBackend(threads: options.threads, kernels: .portable) })

/// The reference checked against itself is a sanity check (it must be deterministic and pass its own
/// guards); the whole-model cases add little there and cost the most, so they are left out for it.
func runsAgainstItself(_ testCase: any ConformanceCase) -> Bool { testCase.op != "model" }

/// One parameterized test case: a backend and a catalogue case. Its name shows backend, op and shape.
struct BackendCase: Sendable, CustomTestStringConvertible {
    let plugin: BackendPlugin
    let testCase: any ConformanceCase

    var testDescription: String { "\(plugin.name) \(testCase.description)" }
}

let testMatrix: [BackendCase] = pluginsUnderTest
    .filter { $0.probe().isAvailable }
    .flatMap { plugin in
        Catalogue.standard
            .filter { plugin.name != ReferenceBackend.plugin.name || runsAgainstItself($0) }
            .map { BackendCase(plugin: plugin, testCase: $0) }
    }
