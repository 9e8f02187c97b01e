import Foundation
import Testing
@testable import ConvRT

/// The package root (holds `Package.swift`, `Models/`), found from this file's path.
let packageRootURL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The example models under `Models/`, by base name (`lazy2d`, ...).
let exampleModelNames: [String] = {
    let dir = packageRootURL.appendingPathComponent("Models")
    let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
    return files.filter { $0.hasSuffix(".convnet") }.map { String($0.dropLast(".convnet".count)) }.sorted()
}()

/// What one `convrt` run did.
struct CLIResult: CustomStringConvertible {
    var status: Int32
    /// `false` if the process died from a signal (a crash).
    var exited: Bool
    var stdout: String
    var stderr: String

    var description: String {
        // A crash's stack trace is noise here: its first line says what trapped.
        let err = exited ? stderr : String(stderr.prefix(while: { $0 != "\n" }))
        return "status \(status)\(exited ? "" : " (signal)"), stdout: \(stdout.debugDescription), stderr: \(err.debugDescription)"
    }
}

/// Runs the built `convrt` executable as a subprocess.
enum CLI {
    /// The `convrt` binary SwiftPM built alongside the tests. `swift test` builds every
    /// product first, so it sits next to the test bundle in `.build/<triple>/<config>/`.
    /// `CONVRT_BIN` overrides the search.
    static let binary: URL? = {
        let fm = FileManager.default
        if let path = ProcessInfo.processInfo.environment["CONVRT_BIN"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        var directories: [URL] = []
        for start in [Bundle.module.bundleURL, Bundle.main.bundleURL, Bundle.main.executableURL].compactMap({ $0 }) {
            var dir = start.deletingLastPathComponent()
            for _ in 0..<4 {
                directories.append(dir)
                dir = dir.deletingLastPathComponent()
            }
        }
        let build = packageRootURL.appendingPathComponent(".build")
        directories += ["debug", "release"].map { build.appendingPathComponent($0) }
        return directories.map { $0.appendingPathComponent("convrt") }.first { url in
            let isFile = (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) ?? false
            return isFile && fm.isExecutableFile(atPath: url.path)
        }
    }()

    /// Runs `convrt args...` in `directory` and collects its exit status and output.
    static func run(_ args: [String], in directory: URL = packageRootURL, timeout: TimeInterval = 300) throws -> CLIResult {
        let binary = try #require(binary, "no built convrt binary next to the tests; run `swift build` first")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("convrt-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        // Files, not pipes: a chatty process can never block on a full pipe.
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }

        let process = Process()
        process.executableURL = binary
        process.arguments = args
        process.currentDirectoryURL = directory
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"  // a crash is reported by the test, not a long backtrace
        process.environment = environment
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            Issue.record("convrt \(args.joined(separator: " ")) timed out after \(timeout)s")
        }
        process.waitUntilExit()
        return CLIResult(
            status: process.terminationStatus, exited: process.terminationReason == .exit,
            stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}

/// A fresh temporary directory, removed by the caller with `cleanUp`.
struct TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("convrt-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// The absolute path of `name` inside the directory.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes UTF-8 text; returns the absolute path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try Data(text.utf8).write(to: url.appendingPathComponent(name))
        return path(name)
    }

    /// Writes raw bytes; returns the absolute path.
    @discardableResult
    func write(_ name: String, bytes: Data) throws -> String {
        try bytes.write(to: url.appendingPathComponent(name))
        return path(name)
    }

    /// Writes a float32 `.npy`; returns the absolute path.
    @discardableResult
    func write(_ name: String, tensor: Tensor) throws -> String {
        try NPY.write(tensor, to: url.appendingPathComponent(name))
        return path(name)
    }

    func cleanUp() { try? FileManager.default.removeItem(at: url) }
}

/// A deterministic tensor with values in [-1, 1).
func sampleTensor(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
    var rng = SplitMix64(seed: seed)
    return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in 2 * rng.nextUnitFloat() - 1 })
}

/// A little-endian `.npy` image of `values` stored as `descr` (`<f8`, `<i4`, `<i8`).
func npyImage(descr: String, shape: [Int], values: [Double]) -> Data {
    var header = Array(NPY.header(shape: shape))
    // Same length as "<f4", so numpy's padding stays valid.
    let from = Array("'<f4'".utf8), to = Array("'\(descr)'".utf8)
    if let start = (0...(header.count - from.count)).first(where: { Array(header[$0..<$0 + from.count]) == from }) {
        header.replaceSubrange(start..<start + from.count, with: to)
    }
    var data = Data(header)
    for v in values {
        switch descr {
        case "<f8": withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) }
        case "<i4": withUnsafeBytes(of: Int32(v).littleEndian) { data.append(contentsOf: $0) }
        case "<i8": withUnsafeBytes(of: Int64(v).littleEndian) { data.append(contentsOf: $0) }
        default: Issue.record("npyImage: unsupported descr \(descr)")
        }
    }
    return data
}

/// Expects a run that failed with exactly one `error: <message>` line and exit status 1.
func expectError(_ result: CLIResult, _ message: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    #expect(result.exited && result.status == 1, "\(result)", sourceLocation: sourceLocation)
    #expect(result.stderr == "error: \(message)\n", sourceLocation: sourceLocation)
    #expect(result.stdout.isEmpty, "stdout: \(result.stdout)", sourceLocation: sourceLocation)
}

/// Expects a failed run whose single `error:` line starts with `prefix` (for OS-worded reasons).
func expectErrorPrefix(_ result: CLIResult, _ prefix: String, status: Int32 = 1,
                       sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    #expect(result.exited && result.status == status, "\(result)", sourceLocation: sourceLocation)
    #expect(result.stderr.hasPrefix("error: \(prefix)"), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count == 2 && lines[1].isEmpty, "expected one line: \(result.stderr.debugDescription)",
            sourceLocation: sourceLocation)
    #expect(result.stdout.isEmpty, "stdout: \(result.stdout)", sourceLocation: sourceLocation)
}

/// Expects a successful run with nothing on stderr.
func expectSuccess(_ result: CLIResult, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    #expect(result.exited && result.status == 0, "\(result)", sourceLocation: sourceLocation)
    #expect(result.stderr.isEmpty, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
}
