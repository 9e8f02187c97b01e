// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "convrt",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "ConvRT", targets: ["ConvRT"]),
        .executable(name: "convrt", targets: ["convrt"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // ISA-specific micro-kernels (run-time dispatch; no compiler flags needed).
        .target(name: "CKernels"),
        .target(
            name: "ConvRT",
            dependencies: [
                "CKernels",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
        .executableTarget(
            name: "convrt",
            dependencies: [
                "ConvRT",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // SGEMM GFLOP/s on conv-shaped problems: `swift run -c release convrt-gemm-bench`.
        .executableTarget(
            name: "convrt-gemm-bench",
            dependencies: ["ConvRT"]
        ),
        .testTarget(
            name: "ConvRTTests",
            dependencies: ["ConvRT"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
