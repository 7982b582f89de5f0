// swift-tools-version:6.0
// A program that uses SwiftGPT as a library, the way another package would: it depends on the
// repository's root package by path and imports its library products. scripts/test builds and
// runs it.
import PackageDescription

let package = Package(
    name: "SwiftGPTExamples",
    dependencies: [.package(name: "SwiftGPT", path: "..")],
    targets: [
        .executableTarget(
            name: "train-and-generate",
            dependencies: [
                .product(name: "Compute", package: "SwiftGPT"),
                .product(name: "Tokenizers", package: "SwiftGPT"),
                .product(name: "GPT", package: "SwiftGPT"),
                .product(name: "ReferenceBackend", package: "SwiftGPT"),
                .product(name: "BLASBackend", package: "SwiftGPT"),
            ],
            path: "Sources/TrainAndGenerate"),
    ]
)
