import Foundation
import Testing
@testable import ConvRT

/// `convrt infer MODEL a.npy b.npy ... -o DIR/` and `--max-memory`, end to end.
@Suite struct BatchInferTests {
    /// A one-input model and three inputs in a fresh directory.
    static func setUp(outputs: Int = 1) throws -> TempDir {
        let tmp = try TempDir()
        let second = outputs > 1 ? "s = Sigmoid(x)\noutput r, s\n" : "output r\n"
        try tmp.write("m.convnet", "input x: [N, 2, 3]\nr = ReLU(x)\n" + second)
        for (i, name) in ["a", "b", "c"].enumerated() {
            try tmp.write("\(name).npy", tensor: sampleTensor([i + 1, 2, 3], seed: UInt64(i)))
        }
        return tmp
    }

    static func relu(_ t: Tensor) -> Tensor { Tensor(shape: t.shape, data: t.data.map { max($0, 0) }) }

    static func read(_ tmp: TempDir, _ name: String) throws -> Tensor {
        try NPY.read(contentsOf: tmp.url.appendingPathComponent(name)).tensor
    }

    @Test func writesOneFilePerInput() throws {
        let tmp = try Self.setUp()
        defer { tmp.cleanUp() }
        expectSuccess(try CLI.run(["infer", "m.convnet", "a.npy", "b.npy", "c.npy", "-o", "out"], in: tmp.url))
        for name in ["a", "b", "c"] {
            #expect(try Self.read(tmp, "out/\(name).npy") == Self.relu(try Self.read(tmp, "\(name).npy")))
        }
        // A single input with -o naming a directory (trailing slash, or one that exists) is batch mode too.
        expectSuccess(try CLI.run(["infer", "m.convnet", "b.npy", "-o", "one/"], in: tmp.url))
        expectSuccess(try CLI.run(["infer", "m.convnet", "c.npy", "-o", "one"], in: tmp.url))
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path("one")).sorted() == ["b.npy", "c.npy"])
    }

    @Test func severalOutputsGoToAnNPZPerInput() throws {
        let tmp = try Self.setUp(outputs: 2)
        defer { tmp.cleanUp() }
        expectSuccess(try CLI.run(["infer", "m.convnet", "a.npy", "b.npy", "-o", "out/"], in: tmp.url))
        let entries = try NPZ.read(contentsOf: tmp.url.appendingPathComponent("out/b.npz"))
        #expect(entries.map(\.name) == ["r", "s"])
        #expect(entries.first?.tensor == Self.relu(try Self.read(tmp, "b.npy")))
    }

    /// A bad file is one error line naming it; the others still run; the status is 1.
    @Test func aFailingFileDoesNotStopTheOthers() throws {
        let tmp = try Self.setUp()
        defer { tmp.cleanUp() }
        try tmp.write("bad.npy", "not an array")
        try tmp.write("rank.npy", tensor: Tensor(zeros: [2, 3]))
        let result = try CLI.run(["infer", "m.convnet", "a.npy", "bad.npy", "rank.npy", "c.npy", "-o", "out"], in: tmp.url)
        #expect(result.exited && result.status == 1, "\(result)")
        #expect(result.stderr == """
            error: bad.npy: not a .npy file (bad magic bytes)
            error: rank.npy: input 'x' expects shape [N, 2, 3], but got [2, 3]
            error: 2 of 4 inputs failed

            """)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path("out")).sorted() == ["a.npy", "c.npy"])
    }

    /// Without -o each output's summary line names its input; no progress bar when stderr is not a terminal.
    @Test func printsSummariesWithoutOutputDirectory() throws {
        let tmp = try Self.setUp()
        defer { tmp.cleanUp() }
        let result = try CLI.run(["infer", "m.convnet", "a.npy", "b.npy"], in: tmp.url)
        expectSuccess(result)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("a.npy: r: shape [1, 2, 3] min ") == true, "\(result)")
        #expect(lines.last?.hasPrefix("b.npy: r: shape [2, 2, 3] min ") == true, "\(result)")
    }

    @Test func setupErrorsStopBeforeRunning() throws {
        let tmp = try Self.setUp()
        defer { tmp.cleanUp() }
        try FileManager.default.createDirectory(at: tmp.url.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try tmp.write("sub/a.npy", tensor: Tensor(zeros: [1, 2, 3]))
        try tmp.write("two.convnet", "input x: [1]\ninput y: [1]\ns = Add(x, y)\noutput s\n")
        func infer(_ args: String...) throws -> CLIResult { try CLI.run(["infer"] + args, in: tmp.url) }
        expectError(try infer("m.convnet", "a.npy", "sub/a.npy", "-o", "out"),
                    "inputs a.npy and sub/a.npy would both write out/a.npy; rename one")
        expectError(try infer("m.convnet", "a.npy", "b.npy", "-o", "."),
                    "a.npy: its result ./a.npy would overwrite an input file; choose another -o directory")
        expectError(try infer("m.convnet", "a.npy", "b.npy", "-o", "x.npy"),
                    "x.npy: several input files need -o to name a directory (e.g. out/), not an .npy file")
        expectError(try infer("m.convnet", "a.npy", "b.npy", "-o", "m.convnet"),
                    "m.convnet: several input files need -o to name a directory (e.g. out/), but this is a file")
        expectError(try infer("m.convnet", "a.npy", "b.npy", "--input", "x=c.npy"),
                    "--input cannot be combined with several input files; batch mode is for models with one input")
        expectError(try infer("two.convnet", "a.npy", "b.npy"),
                    "the model has 2 inputs (x, y); pass each with --input NAME=PATH.npy")
        #expect(!FileManager.default.fileExists(atPath: tmp.path("out")))
    }

    // MARK: --max-memory

    @Test func maxMemoryRefusesBeforeAllocating() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        try tmp.write("m.convnet", "input x: [1, 8, 64, 64]\nc = Conv2d(x, in_channels=8, out_channels=8, kernel_size=3, padding=1)\nr = ReLU(c)\noutput r\n")
        try tmp.write("x.npy", tensor: Tensor(zeros: [1, 8, 64, 64]))
        let run = "running the model on x [1, 8, 64, 64] (weights 2 x 2.3 KiB, arena "
        for command in [["infer", "m.convnet", "x.npy"], ["inspect", "m.convnet"], ["bench", "m.convnet"]] {
            let result = try CLI.run(command + ["--max-memory", "300K"], in: tmp.url)
            expectErrorPrefix(result, run)
            #expect(result.stderr.hasSuffix("more than --max-memory of 300.0 KiB\n"), "\(result)")
        }
        expectError(try CLI.run(["infer", "m.convnet", "x.npy", "--max-memory", "100K"], in: tmp.url),
                    "x.npy: the float32 array of shape [1, 8, 64, 64] needs 128.0 KiB, more than --max-memory of 100.0 KiB")
        expectError(try CLI.run(["compile", "m.convnet", "--max-memory", "2K"], in: tmp.url),
                    "initializing the model's parameters needs 2.3 KiB, more than --max-memory of 2.0 KiB")
        expectError(try CLI.run(["inspect", "m.convnet", "--max-memory", "100"], in: tmp.url),
                    "m.convnet: the file is 116 bytes, more than --max-memory of 100 bytes")
        expectErrorPrefix(try CLI.run(["infer", "m.convnet", "x.npy", "--max-memory", "lots"], in: tmp.url),
                          "--max-memory expects a size such as 4G, 512M or 1000000, but got 'lots'", status: 64)
        expectSuccess(try CLI.run(["infer", "m.convnet", "x.npy", "--max-memory", "2M", "-o", "y.npy"], in: tmp.url))
    }

    /// Devices and FIFOs are refused instead of read until memory runs out.
    @Test func specialFilesAreRefused() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        try tmp.write("m.convnet", "input x: [1, 2]\nweights \"/dev/zero\"\nr = ReLU(x)\noutput r\n")
        expectError(try CLI.run(["infer", "/dev/zero", "x.npy"], in: tmp.url), "/dev/zero: cannot read file: not a regular file")
        expectError(try CLI.run(["infer", "Models/lazy2d.pb", "/dev/zero"]), "/dev/zero: cannot read file: not a regular file")
        expectError(try CLI.run(["compile", "m.convnet"], in: tmp.url), "m.convnet:2:9: /dev/zero: cannot read file: not a regular file")
    }
}
