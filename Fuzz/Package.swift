// swift-tools-version: 6.1
// Coverage-guided fuzz targets (libFuzzer) for everything convrt reads from files.
// Build and run one with `Tools/fuzz.sh NAME SECONDS` from the package root.
//
// A target is a folder `Sources/fuzz-NAME` holding one `main.swift` that defines
// `LLVMFuzzerTestOneInput` (see fuzz-npz: a few lines calling a body in ConvRT's `FuzzTargets`);
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
    targets: fuzzTargets.map { .executableTarget(name: $0, dependencies: [convrt]) }
)
