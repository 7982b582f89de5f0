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
        // Backends: each depends on Compute only and exports one plugin value.
        .target(name: "ReferenceBackend", dependencies: ["Compute"], path: "Backends/Reference"),
        // The CLI wires backends, model and data together.
        .executableTarget(
            name: "gpt",
            dependencies: ["Compute", "GPT", "ReferenceBackend"],
            path: "Sources/gpt"),

        .testTarget(name: "ComputeTests", dependencies: ["Compute"], path: "Tests/ComputeTests"),
        .testTarget(
            name: "ReferenceBackendTests", dependencies: ["Compute", "ReferenceBackend"],
            path: "Tests/ReferenceBackendTests"),
        .testTarget(
            name: "GPTTests", dependencies: ["Compute", "GPT", "ReferenceBackend"],
            path: "Tests/GPTTests"),
        .testTarget(
            name: "CLITests", dependencies: ["gpt"], path: "Tests/CLITests"),
    ],
    swiftLanguageModes: [.v5]
)
