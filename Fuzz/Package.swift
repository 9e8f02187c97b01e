// swift-tools-version: 6.1
// Coverage-guided fuzz targets (libFuzzer) for everything convrt reads from files.
// Build and run one with `Tools/fuzz.sh NAME SECONDS` from the package root.
//
// A target is a folder `Sources/fuzz-NAME` holding one `main.swift` that runs
// libFuzzer's driver on a body in ConvRT's `FuzzTargets` (see fuzz-npz);
// this manifest lists the folders, so adding a target is adding its folder (and `corpus/NAME`).
import Foundation
import PackageDescription

let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Sources")
let fuzzTargets = ((try? FileManager.default.contentsOfDirectory(atPath: sources.path)) ?? [])
    .filter { $0.hasPrefix("fuzz-") }.sorted()

let convrt = Target.Dependency.product(name: "ConvRT", package: "convrt")

let package = Package(
    name: "convrt-fuzz",
    platforms: [.macOS(.v13)],
    products: fuzzTargets.map { .executable(name: $0, targets: [$0]) },
    dependencies: [.package(name: "convrt", path: "..")],
    targets: fuzzTargets.map {
        // ld.gold trips over the sanitized objects' debug info ("internal error in format_file_lineno").
        .executableTarget(name: $0, dependencies: [convrt], linkerSettings: [.unsafeFlags(["-use-ld=lld"], .when(platforms: [.linux]))])
    }
)
