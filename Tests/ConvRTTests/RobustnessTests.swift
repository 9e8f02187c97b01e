import Foundation
import Testing
@_spi(Fuzzing) @testable import ConvRT

/// Hostile and oversized inputs end in a `ConvRTError` quickly, memory limits are checked
/// before allocating, and every fuzzer finding stays fixed (`Fixtures/fuzz/<target>/`).
@Suite struct RobustnessTests {
    /// The error text of `body`, or nil; an error that is not a `ConvRTError` is a failure.
    static func failure(_ body: () throws -> Void, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> String? {
        do {
            try body()
            return nil
        } catch let error as ConvRTError {
            return error.description
        } catch {
            Issue.record("not a ConvRTError: \(error)", sourceLocation: sourceLocation)
            return "\(error)"
        }
    }

    /// Runs `body` and expects it to throw a `ConvRTError` within `seconds`.
    /// `seconds` is generous: debug builds under sanitizers on a loaded machine; a hang takes far longer.
    static func expectQuickError(_ what: String, seconds: Double = 10, _ body: () throws -> Void,
                                 sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let start = ContinuousClock.now
        let message = failure(body, sourceLocation: sourceLocation)
        let elapsed = ContinuousClock.now - start
        #expect(message != nil, "\(what): no error", sourceLocation: sourceLocation)
        #expect(message.map { !$0.contains("\n") } ?? true, "\(what): \(message ?? "")", sourceLocation: sourceLocation)
        #expect(elapsed < .seconds(seconds), "\(what) took \(elapsed)", sourceLocation: sourceLocation)
    }

    // MARK: Memory limits

    @Test(arguments: [
        ("4G", 4 << 30), ("4GiB", 4 << 30), ("4gb", 4 << 30), ("512M", 512 << 20), ("1.5K", 1536),
        ("100000", 100_000), ("0", 0), ("2T", 2 << 40), (" 3 m ", nil), ("", nil), ("G", nil), ("-1G", nil),
        ("1e3", nil), ("4X", nil), ("99999999999T", nil),
    ] as [(String, Int?)])
    func parsesSizes(_ text: String, _ bytes: Int?) {
        #expect(MemoryLimit.parseBytes(text) == bytes, "\(text)")
    }

    @Test func formatsSizes() {
        #expect(MemoryLimit.format(1023) == "1023 bytes")
        #expect(MemoryLimit.format(1536) == "1.5 KiB")
        #expect(MemoryLimit.format(4 << 30) == "4.0 GiB")
        #expect(MemoryLimit(bytes: 2 << 20, name: "--max-memory").description == "--max-memory of 2.0 MiB")
        #expect(MemoryLimit.defaultBytes >= 256 << 20)
    }

    /// A uint8 array is four times larger as float32: the converted size is what counts.
    @Test func npyIsCheckedAsFloat32BeforeConverting() throws {
        let data = Data(NPYTests.image(header: "{'descr': '|u1', 'fortran_order': False, 'shape': (1000,), }",
                                       payload: [UInt8](repeating: 7, count: 1000)))
        let limit = MemoryLimit(bytes: 2048, name: "--max-memory")
        #expect(Self.failure { _ = try NPY.decode(data, name: "u.npy", limit: limit) }
                == "u.npy: the float32 array of shape [1000] needs 3.9 KiB, more than --max-memory of 2.0 KiB")
        #expect(try NPY.decode(data, name: "u.npy", limit: MemoryLimit(bytes: 4000)).tensor.count == 1000)
    }

    /// A deflated entry declaring more than the limit is refused before inflating anything.
    @Test func npzBombIsRefusedBeforeInflating() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let url = tmp.url.appendingPathComponent("bomb.npz")
        try NPZ.write([("z", Tensor(zeros: [1 << 20]))], to: url, compressed: true)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
        #expect(size < 64 << 10, "4 MiB of zeros deflate to \(size) bytes")
        let start = ContinuousClock.now
        #expect(Self.failure { _ = try NPZ.read(contentsOf: url, limit: MemoryLimit(bytes: 1 << 20, name: "--max-memory")) }
                == "\(url.path): key 'z': uncompressed size 4.0 MiB exceeds --max-memory of 1.0 MiB for the archive")
        #expect(ContinuousClock.now - start < .milliseconds(500))
        #expect(try NPZ.read(contentsOf: url, limit: MemoryLimit(bytes: 5 << 20)).first?.tensor.count == 1 << 20)
    }

    /// The arrays of one archive count together.
    @Test func npzArraysCountTogether() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let url = tmp.url.appendingPathComponent("two.npz")
        try NPZ.write([("a", Tensor(zeros: [100_000])), ("b", Tensor(zeros: [100_000]))], to: url)
        #expect(Self.failure { _ = try NPZ.read(contentsOf: url, limit: MemoryLimit(bytes: 600_000, name: "--max-memory")) }
                == "\(url.path): key 'b': uncompressed size 390.8 KiB exceeds --max-memory of 585.9 KiB for the archive (195.2 KiB left)")
    }

    @Test func seededParametersAreCheckedBeforeAllocating() throws {
        let text = "input x: [1, 3, 8, 8]\nc = Conv2d(x, in_channels=3, out_channels=4096, kernel_size=3)\noutput c\n"
        let parsed = try ConvnetParser.parse(text, file: "m.convnet")
        let options = CompileOptions(memoryLimit: MemoryLimit(bytes: 256 << 10, name: "--max-memory"))
        #expect(Self.failure { _ = try ModelCompiler.compile(parsed, baseDirectory: URL(fileURLWithPath: "/"), options: options) }
                == "initializing the model's parameters needs 448.0 KiB, more than --max-memory of 256.0 KiB")
    }

    @Test func modelFilesAreCheckedBeforeReading() throws {
        let url = URL(fileURLWithPath: "Models/lazy2d.pb", relativeTo: packageRootURL)
        let options = CompileOptions(memoryLimit: MemoryLimit(bytes: 4096, name: "--max-memory"))
        #expect(Self.failure { _ = try ModelCompiler.load(contentsOf: url, options: options) }
                == "Models/lazy2d.pb: the file is 6.4 KiB, more than --max-memory of 4.0 KiB")
    }

    /// A model path that is a directory or a device, whatever its extension, is an error, not a
    /// trap (found by Tools/hostile_files.py: sniffing a `.pb`'s first bytes read a directory).
    @Test(arguments: ["model.pb", "model", "model.onnx", "model.convnet"])
    func modelPathThatIsADirectoryIsAnError(_ name: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convrt-dir-\(UInt32.random(in: 0...UInt32.max))")
        let model = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let message = Self.failure { _ = try ModelCompiler.load(contentsOf: model, options: CompileOptions()) }
        #expect(message?.contains("Is a directory") == true, "\(message ?? "no error")")
        #expect(Self.failure { _ = try ModelFormat.detect(URL(fileURLWithPath: "/dev/zero")) }
                == "/dev/zero: cannot read file: not a regular file")
    }

    /// A run is refused before its arena is allocated; the message says what the memory is for.
    @Test func runsAreCheckedBeforeAllocating() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 8, 64, 64])
        b.conv("c1", x, in: 8, out: 8)
        b.conv("c2", "c1", in: 8, out: 8)
        let graph = b.graph(outputs: ["c2"])
        let model = CompiledModel(graph: graph, memoryLimit: MemoryLimit(bytes: 512 << 10, name: "--max-memory"))
        let input = ["x": Tensor(zeros: [1, 8, 64, 64])]
        let message = try #require(Self.failure { _ = try model.run(input) })
        #expect(message.hasPrefix("running the model on x [1, 8, 64, 64] (weights 2 x 4.6 KiB, arena "), "\(message)")
        #expect(message.hasSuffix("inputs and outputs 2 x 256.0 KiB) needs \(MemoryLimit.format(try CompiledModel(graph: graph).memoryEstimate(for: ["x": [1, 8, 64, 64]]).total)), more than --max-memory of 512.0 KiB"), "\(message)")
        #expect(model.cachedPlanCount == 0)
        #expect(Self.failure { _ = try model.runReference(input) } != nil)
        #expect(try CompiledModel(graph: graph, memoryLimit: MemoryLimit(bytes: 4 << 20)).run(input)["c2"]?.shape == [1, 8, 64, 64])
    }

    // MARK: Hostile model text

    static func repeated(_ s: String, _ n: Int) -> String { String(repeating: s, count: n) }

    static let hostileDSL: [(String, String)] = [
        ("deep parentheses", "input x: [1, 2, 4]\nc = Conv1d(x, in_channels=2, out_channels=2, kernel_size=" + repeated("(", 100_000) + "3" + repeated(")", 100_000) + ")\noutput c\n"),
        ("deep brackets in dims", "input x: " + repeated("[", 100_000) + "\noutput x\n"),
        ("unclosed call", "input x: [1]\nr = ReLU(" + repeated("x, ", 50_000) + "\n"),
        ("a 1 MB unterminated string", "input x: [1]\nweights \"" + repeated("a", 1 << 20) + "\nr = ReLU(x)\noutput r\n"),
        ("NUL bytes", "input x: [1]\u{0}\nr = ReLU(x)\noutput r\n"),
        ("only a BOM", "\u{FEFF}"),
        ("nothing", ""),
        ("huge integer", "input x: [99999999999999999999999999]\noutput x\n"),
        ("huge float", "input x: [1, 2, 4]\nr = LeakyReLU(x, negative_slope=1e999)\noutput r\n"),
        ("negative dim", "input x: [1, -2, 4]\noutput x\n"),
        ("absurd dims", "input x: [1099511627776, 1099511627776]\nr = ReLU(x)\noutput r\n"),
        ("absurd element count", "input x: [1073741824, 1073741824, 16]\nr = ReLU(x)\noutput r\n"),
        ("absurd kernel", "input x: [1, 2, 4]\nc = Conv1d(x, in_channels=2, out_channels=2, kernel_size=9223372036854775807)\noutput c\n"),
        ("absurd channels", "input x: [1, 2, 4]\nc = Conv1d(x, in_channels=2, out_channels=4611686018427387904, kernel_size=1)\noutput c\n"),
        ("absurd output_size", "input x: [1, 2, 4, 4]\nc = ConvTranspose2d(x, in_channels=2, out_channels=2, kernel_size=2, output_size=(1073741824, 1073741824))\noutput c\n"),
        ("fold absurd", "input x: [1, 4, 9]\nf = Fold(x, output_size=(4611686018427387904, 4), kernel_size=2)\noutput f\n"),
        ("undefined name", "input x: [1]\nr = ReLU(y)\noutput r\n"),
        ("self reference", "input x: [1]\nr = ReLU(r)\noutput r\n"),
        ("duplicate", "input x: [1]\nr = ReLU(x)\nr = ReLU(r)\noutput r\n"),
        ("no output", "input x: [1]\nr = ReLU(x)\n"),
        ("weights outside", "input x: [1, 2, 4]\nweights \"/dev/zero\"\nc = Conv1d(x, in_channels=2, out_channels=2, kernel_size=1)\noutput c\n"),
        ("weights is a directory", "input x: [1, 2, 4]\nweights \"/\"\nc = Conv1d(x, in_channels=2, out_channels=2, kernel_size=1)\noutput c\n"),
    ]

    @Test(arguments: hostileDSL.map(\.0))
    func hostileModelTextIsAnError(_ name: String) throws {
        let text = try #require(Self.hostileDSL.first { $0.0 == name }?.1)
        Self.expectQuickError(name) { try FuzzTargets.dsl(Data(text.utf8)) }
    }

    @Test func invalidUTF8IsAnError() {
        for bytes: [UInt8] in [[0xFF], [0xC3], [0xED, 0xA0, 0x80], Array("input x: [1]\n".utf8) + [0xE9, 0x0A]] {
            Self.expectQuickError("\(bytes)") { try FuzzTargets.dsl(Data(bytes)) }
        }
    }

    // MARK: Hostile .pb bytes

    /// Every prefix of a real model is an error (a clean one), never a trap.
    @Test func truncatedModelsAreErrors() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: "Models/lazy2d.pb", relativeTo: packageRootURL))
        for length in stride(from: 0, to: data.count, by: 37) {
            Self.expectQuickError("first \(length) bytes") { try FuzzTargets.pb(data.prefix(length)) }
        }
    }

    @Test func hostileProtobufIsAnError() {
        // Field 1 (format_version) then: a group nested 100,000 deep; a length of 2^62; a varint
        // that never ends; a weight (field 5) whose dims claim 2^60 elements with 4 bytes of data.
        let deep = [UInt8](repeating: 0x1B, count: 100_000)  // start group, field 3
        let hugeLength: [UInt8] = [0x2A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]
        let endless = [UInt8](repeating: 0xFF, count: 64)
        var weight: [UInt8] = [0x0A, 0x01, 0x77, 0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 0x1A, 0x04, 0, 0, 0, 0]
        weight = [0x2A, UInt8(weight.count)] + weight
        for (name, bytes) in [("deep", [0x08, 0x01] + deep), ("huge length", [0x08, 0x01] + hugeLength),
                              ("endless varint", [0x08] + endless), ("absurd weight", [0x08, 0x01] + weight)] {
            Self.expectQuickError(name) { try FuzzTargets.pb(Data(bytes)) }
        }
    }

    // MARK: Fuzzer findings

    /// Every input a fuzz target once crashed on, replayed through the same target body.
    @Test(arguments: ["dsl", "pb", "npy", "npz", "onnx"])
    func fuzzFindingsStayFixed(_ target: String) throws {
        let body: (Data) throws -> Void = switch target {
        case "dsl": FuzzTargets.dsl
        case "pb": FuzzTargets.pb
        case "npy": FuzzTargets.npy
        case "npz": FuzzTargets.npz
        default: FuzzTargets.onnx
        }
        let directory = fixturesURL.appendingPathComponent("fuzz").appendingPathComponent(target)
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        for file in files.sorted(by: { $0.path < $1.path }) {
            let data = try Data(contentsOf: file)
            let start = ContinuousClock.now
            _ = Self.failure { try body(data) }
            #expect(ContinuousClock.now - start < .seconds(5), "\(file.lastPathComponent)")
        }
    }
}
