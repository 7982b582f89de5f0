// swift-tools-version:6.2
// A plugin-based compute-backend framework for GPT language models.
// No package dependencies: system libraries only (see README.md).
import PackageDescription

/// The BLAS kernel modules are compiled without C's errno semantics for math functions: with them,
/// Swift's `squareRoot()` on a SIMD vector is a libm call per lane (the shim is Clang's sqrtf);
/// without, it is one sqrtps. They call no C math function whose errno anything reads.
let kernelMath: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-fno-math-errno"])]

/// Code generation for AVX2 with FMA (x86-64 only): the Clang importer's target features are the
/// ones Swift compiles for. Only BLASKernelsAVX2 gets them; everything else stays baseline x86-64.
/// These are unsafe flags; since tools version 6.2 SwiftPM accepts them in a dependency fetched by
/// version too, which is why the manifest asks for 6.2.
/// BLASKernelsAVX512 adds AVX-512 F, DQ, CD, BW and VL (the set the backend checks for).
#if arch(x86_64)
let avx2: [SwiftSetting] = kernelMath + [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma"])]
let avx512: [SwiftSetting] = avx2 + [.unsafeFlags(["-Xcc", "-mavx512f", "-Xcc", "-mavx512dq", "-Xcc", "-mavx512cd",
                                                   "-Xcc", "-mavx512bw", "-Xcc", "-mavx512vl"])]
#else
let avx2: [SwiftSetting] = kernelMath
let avx512: [SwiftSetting] = kernelMath
#endif

let package = Package(
    name: "SwiftGPT",
    products: [
        .executable(name: "gpt", targets: ["gpt"]),
        // The framework, for other packages: the protocol, the tokenizers, the model and its training
        // and inference, each backend (a program links the ones it wants and registers their plugins),
        // and the conformance cases a backend of its own can be held to.
        .library(name: "Compute", targets: ["Compute"]),
        .library(name: "Tokenizers", targets: ["Tokenizers"]),
        .library(name: "GPT", targets: ["GPT"]),
        .library(name: "ReferenceBackend", targets: ["ReferenceBackend"]),
        .library(name: "BLASBackend", targets: ["BLASBackend"]),
        .library(name: "OpenCLBackend", targets: ["OpenCLBackend"]),
        .library(name: "Conformance", targets: ["Conformance"]),
        // Data-parallel training: the Communicator protocol (and one process), and Open MPI behind it.
        .library(name: "Distributed", targets: ["Distributed"]),
        .library(name: "MPICommunicator", targets: ["MPICommunicator"]),
    ],
    targets: [
        // The contract: Backend protocol, buffers, errors, registry, profiler, counter RNG.
        .target(name: "Compute", path: "Sources/Compute"),
        // Char, word and byte-level BPE tokenizers, the BPE trainer, Hugging Face tokenizer.json.
        .target(name: "Tokenizers", dependencies: ["Compute"], path: "Sources/Tokenizers"),
        // The collectives data-parallel training needs (Communicator) and the single-process group.
        .target(name: "Distributed", path: "Sources/Distributed"),
        // Model graph, optimizer, schedule, checkpoints, data: written once against Compute (and
        // Distributed's protocol for data parallelism; never MPI itself).
        .target(name: "GPT", dependencies: ["Compute", "Tokenizers", "Distributed"], path: "Sources/GPT"),
        // Open MPI as a Communicator, bound at run time like the backends' libraries (CMPI: the loader).
        .target(name: "CMPI", path: "Sources/MPICommunicator/CMPI", linkerSettings: [.linkedLibrary("dl")]),
        .target(
            name: "MPICommunicator", dependencies: ["Distributed", "CMPI"], path: "Sources/MPICommunicator",
            exclude: ["CMPI"]),
        // Backends: each depends on Compute (the CPU ones also on HostMemory) and exports one plugin value.
        .target(name: "HostMemory", dependencies: ["Compute"], path: "Backends/Host"),
        .target(name: "ReferenceBackend", dependencies: ["Compute", "HostMemory"], path: "Backends/Reference"),
        // System libraries are bound at run time (dlopen), never linked: the binary starts on a
        // machine without them. The C targets hold the loaders (and CPUID for OpenBLAS's kernels).
        .target(name: "COpenBLAS", path: "Backends/BLAS/COpenBLAS", linkerSettings: [.linkedLibrary("dl")]),
        // The BLAS backend's vector kernels, written once (generic, @inlinable) and compiled twice:
        // into the backend for baseline x86-64, and into BLASKernelsAVX2 for AVX2 with FMA, which
        // the backend calls only on a CPU that has both (see Backends/BLAS/Kernels/VectorArithmetic.swift);
        // BLASKernelsAVX512 holds GELU and the attention on 16 lanes, for CPUs with AVX-512.
        .target(name: "BLASKernels", path: "Backends/BLAS/Kernels", swiftSettings: kernelMath),
        .target(
            name: "BLASKernelsAVX2", dependencies: ["BLASKernels"], path: "Backends/BLAS/KernelsAVX2",
            swiftSettings: avx2),
        .target(
            name: "BLASKernelsAVX512", dependencies: ["BLASKernels"], path: "Backends/BLAS/KernelsAVX512",
            swiftSettings: avx512),
        .target(
            name: "BLASBackend",
            dependencies: ["Compute", "HostMemory", "COpenBLAS", "BLASKernels", "BLASKernelsAVX2", "BLASKernelsAVX512"],
            path: "Backends/BLAS", exclude: ["COpenBLAS", "Kernels", "KernelsAVX2", "KernelsAVX512"]),
        // Needs OpenCL's headers to build (Debian: opencl-headers), not its library.
        .target(name: "COpenCL", path: "Backends/OpenCL/COpenCL", linkerSettings: [.linkedLibrary("dl")]),
        .target(
            name: "OpenCLBackend", dependencies: ["Compute", "COpenCL"], path: "Backends/OpenCL",
            exclude: ["COpenCL"], plugins: ["EmbedKernels"]),
        // Kernels/*.cl -> generated Swift source inside OpenCLBackend (no bundle resources).
        .plugin(name: "EmbedKernels", capability: .buildTool(), dependencies: ["EmbedKernelsTool"],
                path: "Plugins/EmbedKernels"),
        .executableTarget(name: "EmbedKernelsTool", path: "Sources/EmbedKernelsTool"),
        // Op and model conformance cases, shared by `swift test` and `gpt conformance`.
        .target(
            name: "Conformance", dependencies: ["Compute", "GPT", "ReferenceBackend"],
            path: "Sources/Conformance"),
        // The CLI wires backends, model and data together.
        .executableTarget(
            name: "gpt",
            dependencies: ["Compute", "Tokenizers", "GPT", "Conformance", "ReferenceBackend", "BLASBackend",
                           "OpenCLBackend", "Distributed", "MPICommunicator"],
            path: "Sources/gpt"),

        .testTarget(name: "ComputeTests", dependencies: ["Compute"], path: "Tests/ComputeTests"),
        .testTarget(
            name: "ReferenceBackendTests", dependencies: ["Compute", "ReferenceBackend"],
            path: "Tests/ReferenceBackendTests"),
        .testTarget(name: "HostMemoryTests", dependencies: ["HostMemory"], path: "Tests/HostMemoryTests"),
        // Helpers shared by test targets (seeded random text, scratch paths).
        .target(name: "TestSupport", dependencies: ["Compute"], path: "Tests/TestSupport"),
        .testTarget(
            name: "TokenizersTests", dependencies: ["Compute", "Tokenizers", "TestSupport"],
            path: "Tests/TokenizersTests"),
        .testTarget(
            name: "GPTTests",
            dependencies: ["Compute", "Tokenizers", "GPT", "ReferenceBackend", "TestSupport", "Distributed"],
            path: "Tests/GPTTests"),
        .testTarget(
            name: "ConformanceTests",
            dependencies: ["Compute", "GPT", "Conformance", "ReferenceBackend", "BLASBackend", "OpenCLBackend"],
            path: "Tests/ConformanceTests"),
        .testTarget(
            name: "BLASBackendTests", dependencies: ["BLASBackend", "BLASKernels", "Compute"], path: "Tests/BLASBackendTests"),
        .testTarget(
            name: "OpenCLBackendTests", dependencies: ["Compute", "OpenCLBackend", "ReferenceBackend"],
            path: "Tests/OpenCLBackendTests"),
        // The binary as a subprocess; the libraries only to write checkpoints no CLI command can make.
        .testTarget(
            name: "CLITests", dependencies: ["gpt", "GPT", "Tokenizers", "ReferenceBackend", "TestSupport"],
            path: "Tests/CLITests"),
    ],
    // Every target builds in the Swift 6 language mode: complete concurrency checking, with one
    // documented escape (the CPU backends' worker pool; see docs/ARCHITECTURE.md).
    swiftLanguageModes: [.v6]
)
