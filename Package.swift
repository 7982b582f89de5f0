// swift-tools-version:6.0
// A plugin-based compute-backend framework for GPT language models.
// No package dependencies: system libraries only (see README.md).
import PackageDescription

let package = Package(
    name: "SwiftGPT",
    products: [
        .executable(name: "gpt", targets: ["gpt"]),
    ],
    targets: [
        // The contract: Backend protocol, buffers, errors, registry, profiler, counter RNG.
        .target(name: "Compute", path: "Sources/Compute"),
        // Model graph, optimizer, schedule, tokenizer, checkpoints: written once against Compute.
        .target(name: "GPT", dependencies: ["Compute"], path: "Sources/GPT"),
        // Backends: each depends on Compute (the CPU ones also on HostMemory) and exports one plugin value.
        .target(name: "HostMemory", dependencies: ["Compute"], path: "Backends/Host"),
        .target(name: "ReferenceBackend", dependencies: ["Compute", "HostMemory"], path: "Backends/Reference"),
        // System libraries are bound at run time (dlopen), never linked: the binary starts on a
        // machine without them. The C targets hold the loaders (and CPUID for OpenBLAS's kernels).
        .target(name: "COpenBLAS", path: "Backends/BLAS/COpenBLAS", linkerSettings: [.linkedLibrary("dl")]),
        .target(
            name: "BLASBackend", dependencies: ["Compute", "HostMemory", "COpenBLAS"], path: "Backends/BLAS",
            exclude: ["COpenBLAS"]),
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
            dependencies: ["Compute", "GPT", "Conformance", "ReferenceBackend", "BLASBackend", "OpenCLBackend"],
            path: "Sources/gpt"),

        .testTarget(name: "ComputeTests", dependencies: ["Compute"], path: "Tests/ComputeTests"),
        .testTarget(
            name: "ReferenceBackendTests", dependencies: ["Compute", "ReferenceBackend"],
            path: "Tests/ReferenceBackendTests"),
        .testTarget(
            name: "GPTTests", dependencies: ["Compute", "GPT", "ReferenceBackend"],
            path: "Tests/GPTTests"),
        .testTarget(
            name: "ConformanceTests",
            dependencies: ["Compute", "GPT", "Conformance", "ReferenceBackend", "BLASBackend", "OpenCLBackend"],
            path: "Tests/ConformanceTests"),
        .testTarget(name: "BLASBackendTests", dependencies: ["BLASBackend"], path: "Tests/BLASBackendTests"),
        .testTarget(
            name: "OpenCLBackendTests", dependencies: ["Compute", "OpenCLBackend", "ReferenceBackend"],
            path: "Tests/OpenCLBackendTests"),
        .testTarget(
            name: "CLITests", dependencies: ["gpt"], path: "Tests/CLITests"),
    ],
    swiftLanguageModes: [.v5]
)
