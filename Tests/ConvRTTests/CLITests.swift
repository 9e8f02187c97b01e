import Foundation
import Testing
@testable import ConvRT

/// The `convrt` executable end to end, run as a subprocess: outputs, files written, and the
/// exact single `error: ...` line for every kind of bad input.
@Suite struct CLITests {
    static let models = packageRootURL.appendingPathComponent("Models")

    @Test func binaryIsBuilt() throws {
        let binary = try #require(CLI.binary)
        let result = try CLI.run(["--help"])
        #expect(result.status == 0 && result.stdout.contains("USAGE: convrt"), "\(binary.path): \(result)")
    }

    // MARK: compile

    /// Compiling from the package root reproduces the committed `.pb` byte for byte.
    @Test(arguments: exampleModelNames)
    func compileWritesPB(_ model: String) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let out = tmp.path("\(model).pb")
        let result = try CLI.run(["compile", "Models/\(model).convnet", "-o", out])
        expectSuccess(result)
        let graph = try ModelFile.read(contentsOf: URL(fileURLWithPath: out))
        #expect(result.stdout == "wrote \(out): \(graph.nodes.count) nodes, \(graph.weights.count) weights\n")
        let committed = try Data(contentsOf: Self.models.appendingPathComponent("\(model).pb"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == committed)
    }

    /// Without `-o` the `.pb` goes next to the model; `--seed` changes the init, not the structure.
    @Test func compileDefaultsAndSeed() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        try tmp.write("m.convnet", "input x: [1, 2, 6, 6]\nc = Conv2d(x, in_channels=2, out_channels=3, kernel_size=3)\noutput c\n")
        let result = try CLI.run(["compile", "m.convnet"], in: tmp.url)
        expectSuccess(result)
        #expect(result.stdout == "wrote m.pb: 1 nodes, 2 weights\n")
        let seed0 = try ModelFile.read(contentsOf: tmp.url.appendingPathComponent("m.pb"))
        expectSuccess(try CLI.run(["compile", "m.convnet", "--seed", "7", "-o", "s7.pb"], in: tmp.url))
        let seed7 = try ModelFile.read(contentsOf: tmp.url.appendingPathComponent("s7.pb"))
        #expect(seed0.nodes == seed7.nodes)
        #expect(seed0.weights["c.weight"] != seed7.weights["c.weight"])
        let library = try ModelCompiler.compile(contentsOf: tmp.url.appendingPathComponent("m.convnet"),
                                                options: CompileOptions(seed: 7))
        #expect(seed7.weights == library.graph.weights)
    }

    // MARK: infer

    /// The `.pb` and the `.convnet` give bit-identical outputs, equal to PyTorch's.
    @Test(arguments: exampleModelNames)
    func inferMatchesExpected(_ model: String) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let input = "Models/\(model).input.npy"
        expectSuccess(try CLI.run(["infer", "Models/\(model).pb", input, "-o", tmp.path("pb.npy")]))
        expectSuccess(try CLI.run(["infer", "Models/\(model).convnet", input, "-o", tmp.path("convnet.npy")]))
        let fromPB = try NPY.read(contentsOf: tmp.url.appendingPathComponent("pb.npy")).tensor
        let fromSource = try NPY.read(contentsOf: tmp.url.appendingPathComponent("convnet.npy")).tensor
        #expect(fromPB == fromSource)
        let expected = try NPY.read(contentsOf: Self.models.appendingPathComponent("\(model).expected.npy")).tensor
        expectClose(fromPB, expected, model)
    }

    /// Without `-o`: one line per output with its shape and a summary.
    @Test func inferPrintsSummary() throws {
        let result = try CLI.run(["infer", "Models/lazy2d.pb", "Models/lazy2d.input.npy"])
        expectSuccess(result)
        let expected = try NPY.read(contentsOf: Self.models.appendingPathComponent("lazy2d.expected.npy")).tensor
        let lines = result.stdout.split(separator: "\n")
        try #require(lines.count == 1, "\(result)")
        #expect(lines[0].hasPrefix("head.conv: shape [1, 2, 32, 32] min "))
        #expect(lines[0].contains(" max ") && lines[0].contains(" mean ") && lines[0].hasSuffix(", ...]"))
        let head = lines[0].split(separator: "[").last.map { $0.dropLast(1) } ?? ""
        let first = head.split(separator: ",").prefix(6).compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        #expect(first.count == 6)
        for (a, e) in zip(first, expected.data) { #expect(abs(a - e) <= 1e-4 * max(1, abs(e))) }
    }

    @Test func inferEmptyBatch() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let input = try tmp.write("empty.npy", tensor: Tensor(zeros: [0, 1, 4000]))
        let result = try CLI.run(["infer", "Models/audio1d.convnet", input])
        expectSuccess(result)
        #expect(result.stdout == "head.conv: shape [0, 4, 1000] (empty)\n")
    }

    /// A two-input, two-output model with seeded weights, and its expected outputs from the library.
    static let twoByTwo = """
        input a: [1, 2, 5, 5]
        input b: [N, 2, 5, 5]
        conv = Conv2d(a, in_channels=2, out_channels=3, kernel_size=3, padding=1)
        sum = Add(a, b)
        act = ReLU(sum)
        output conv, act

        """

    @Test func severalInputsAndOutputs() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        try tmp.write("two.convnet", Self.twoByTwo)
        let a = sampleTensor([1, 2, 5, 5], seed: 1), b = sampleTensor([1, 2, 5, 5], seed: 2)
        try tmp.write("a.npy", tensor: a)
        try tmp.write("b.npy", tensor: b)
        let compiled = try ModelCompiler.compile(contentsOf: tmp.url.appendingPathComponent("two.convnet"))
        let expected = try ReferenceExecutor.run(compiled.graph, inputs: ["a": a, "b": b])

        let run = try CLI.run(["infer", "two.convnet", "--input", "b=b.npy", "--input", "a=a.npy", "-o", "out.npz"], in: tmp.url)
        expectSuccess(run)
        #expect(run.stdout.isEmpty)
        let written = try NPZ.read(contentsOf: tmp.url.appendingPathComponent("out.npz"))
        #expect(written.map(\.name) == ["conv", "act"])
        for entry in written { expectClose(entry.tensor, expected[entry.name]!, entry.name) }
        expectClose(written.last!.tensor, Tensor(shape: a.shape, data: zip(a.data, b.data).map { max($0 + $1, 0) }), "act")

        let printed = try CLI.run(["infer", "two.convnet", "--input", "a=a.npy", "--input", "b=b.npy"], in: tmp.url)
        expectSuccess(printed)
        #expect(printed.stdout.split(separator: "\n").map { $0.prefix(while: { $0 != "m" }) }
                == ["conv: shape [1, 3, 5, 5] ", "act: shape [1, 2, 5, 5] "])
    }

    @Test func severalOutputsNeedAnNPZ() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        try tmp.write("two.convnet", Self.twoByTwo)
        try tmp.write("a.npy", tensor: sampleTensor([1, 2, 5, 5]))
        let result = try CLI.run(["infer", "two.convnet", "--input", "a=a.npy", "--input", "b=a.npy", "-o", "x.npy"], in: tmp.url)
        expectError(result, "the model has 2 outputs (conv, act); write them to an .npz")
        #expect(!FileManager.default.fileExists(atPath: tmp.path("x.npy")))
    }

    @Test func inputBindingErrors() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        try tmp.write("two.convnet", Self.twoByTwo)
        try tmp.write("a.npy", tensor: sampleTensor([1, 2, 5, 5]))
        try tmp.write("b3.npy", tensor: sampleTensor([3, 2, 5, 5]))
        func infer(_ args: String...) throws -> CLIResult { try CLI.run(["infer", "two.convnet"] + args, in: tmp.url) }
        expectError(try infer("a.npy"),
                    "the model has 2 inputs (a, b); pass each with --input NAME=PATH.npy")
        expectError(try infer("--input", "a=a.npy"), "missing input 'b' (expected shape [N, 2, 5, 5])")
        expectError(try infer("--input", "a=a.npy", "--input", "b=a.npy", "--input", "c=a.npy"),
                    "unknown input 'c'; the model's inputs are a, b")
        expectError(try infer("--input", "a=a.npy", "--input", "a=a.npy"), "input 'a' is given more than once")
        expectError(try infer("--input", "a"), "--input expects NAME=PATH.npy, but got 'a'")
        expectError(try infer("--input", "=a.npy"), "--input expects NAME=PATH.npy, but got '=a.npy'")
        // b's batch is the symbol N, so batch 3 binds; Add then broadcasts a's batch of 1 against it.
        let broadcast = try infer("--input", "a=a.npy", "--input", "b=b3.npy")
        expectSuccess(broadcast)
        #expect(broadcast.stdout.hasPrefix("conv: shape [1, 3, 5, 5] ") && broadcast.stdout.contains("\nact: shape [3, 2, 5, 5] "))
    }

    /// float64 and integer inputs are converted, with a note naming the file on stderr.
    @Test(arguments: ["<f8", "<i4", "<i8"])
    func convertedInputs(_ descr: String) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let shape = [1, 3, 6, 6]
        let values = (0..<shape.reduce(1, *)).map { Double($0 % 7) - 3 }
        try tmp.write("m.convnet", "input x: [1, 3, 6, 6]\nc = Conv2d(x, in_channels=3, out_channels=2, kernel_size=3)\noutput c\n")
        try tmp.write("in.npy", bytes: npyImage(descr: descr, shape: shape, values: values))
        try tmp.write("f32.npy", tensor: Tensor(shape: shape, data: values.map(Float.init)))
        let converted = try CLI.run(["infer", "m.convnet", "in.npy", "-o", "out.npy"], in: tmp.url)
        let name = ["<f8": "float64", "<i4": "int32", "<i8": "int64"][descr] ?? descr
        #expect(converted.status == 0 && converted.stdout.isEmpty, "\(converted)")
        #expect(converted.stderr == "note: in.npy: converted \(name) to float32\n")
        expectSuccess(try CLI.run(["infer", "m.convnet", "f32.npy", "-o", "ref.npy"], in: tmp.url))
        let out = try NPY.read(contentsOf: tmp.url.appendingPathComponent("out.npy")).tensor
        let ref = try NPY.read(contentsOf: tmp.url.appendingPathComponent("ref.npy")).tensor
        #expect(out == ref)
    }

    // MARK: inspect

    @Test func inspectTable() throws {
        let result = try CLI.run(["inspect", "Models/lazy2d.pb"])
        expectSuccess(result)
        // The node table, then the plan (steps and memory) after a blank line.
        let lines = result.stdout.components(separatedBy: "\n\n")[0].split(separator: "\n").map(String.init)
        try #require(lines.count == 15, "\(result)")
        #expect(result.stdout.contains("steps (7 for 10 layers):"))
        #expect(result.stdout.contains("arena peak "))
        #expect(lines[0].split(separator: " ") == ["name", "op", "inputs", "output", "attributes", "params", "FLOPs"])
        #expect(lines[1].allSatisfy { $0 == "-" || $0 == " " })
        #expect(lines[2].split(separator: " ") == ["x", "Input", "[1,", "3,", "32,", "32]"])
        #expect(lines[3].split(separator: " ").joined(separator: " ")
                == "stem.conv Conv2d x[1, 3, 32, 32] [1, 8, 32, 32] k=3 s=1 p=1 3->8 224 442.37K")
        #expect(lines[4].hasPrefix("stem.act "))
        // The Lazy layer's in_channels come from the Fold before it (36 / (3*3) = 4).
        #expect(lines[12].split(separator: " ").joined(separator: " ")
                == "head.conv LazyConv2d patches.fold[1, 4, 64, 64] [1, 2, 32, 32] k=3 s=2 p=1 mode=replicate 4->2 74 147.46K")
        #expect(lines[13] == "total: 10 nodes, 1398 parameters, 3.14M FLOPs")
        #expect(lines[14] == "outputs: head.conv[1, 2, 32, 32]")
    }

    @Test func inspectJSON() throws {
        let result = try CLI.run(["inspect", "Models/lazy2d.convnet", "--format", "json"])
        expectSuccess(result)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let inputs = try #require(json["inputs"] as? [[String: Any]])
        #expect(inputs.count == 1 && inputs[0]["name"] as? String == "x" && inputs[0]["shape"] as? [Int] == [1, 3, 32, 32])
        let nodes = try #require(json["nodes"] as? [[String: Any]])
        let graph = try ModelCompiler.compile(contentsOf: Self.models.appendingPathComponent("lazy2d.convnet"))
        #expect(nodes.compactMap { $0["name"] as? String } == graph.graph.nodes.map(\.name))
        #expect(nodes.compactMap { $0["op"] as? String } == graph.graph.nodes.map(\.op.displayName))
        #expect(nodes.compactMap { $0["inputs"] as? [String] } == graph.graph.nodes.map(\.inputs))
        #expect(nodes.compactMap { $0["output_shape"] as? [Int] } == graph.graph.nodes.map { graph.shape(of: $0.name).concrete ?? [] })
        #expect(nodes.last?["params"] as? Int == 74 && nodes.last?["flops"] as? Int == 147_456)
        #expect(json["outputs"] as? [String] == ["head.conv"])
        let totals = try #require(json["totals"] as? [String: Any])
        #expect(totals["params"] as? Int == 1398)
    }

    /// Symbolic dims print as expressions (FLOPs unknown) until `--input-shape` binds them.
    @Test func inspectBindsSymbolicShapes() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        try tmp.write("sym.convnet", """
            input x: [N, 3, H, W]
            y = Conv2d(x, in_channels=3, out_channels=8, kernel_size=3, stride=2, padding=1)
            z = ConvTranspose2d(y, in_channels=8, out_channels=2, kernel_size=4, stride=2, padding=1)
            output z

            """)
        func inspectJSON(_ args: String...) throws -> [String: Any] {
            let result = try CLI.run(["inspect", "sym.convnet", "--format", "json"] + args, in: tmp.url)
            expectSuccess(result)
            return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        }
        let symbolic = try #require(try inspectJSON()["nodes"] as? [[String: Any]])
        #expect(symbolic.map { ($0["output_shape"] as? [Any]).map { $0.map { "\($0)" } } ?? [] }
                == [["N", "8", "(H-1)/2+1", "(W-1)/2+1"], ["N", "2", "((H-1)/2+1)*2", "((W-1)/2+1)*2"]])
        #expect(symbolic.allSatisfy { $0["flops"] is NSNull })

        let bound = try inspectJSON("--input-shape", "x=2,3,33,31")
        let nodes = try #require(bound["nodes"] as? [[String: Any]])
        #expect(nodes.compactMap { $0["output_shape"] as? [Int] } == [[2, 8, 17, 16], [2, 2, 34, 32]])
        // Conv: 2 * out elements * in/groups * k; ConvTranspose: 2 * in elements * out/groups * k.
        #expect(nodes.compactMap { $0["flops"] as? Int } == [2 * (2 * 8 * 17 * 16) * 3 * 9, 2 * (2 * 8 * 17 * 16) * 2 * 16])
        #expect((bound["totals"] as? [String: Any])?["flops"] as? Int == 235_008 + 278_528)

        let table = try CLI.run(["inspect", "sym.convnet"], in: tmp.url)
        expectSuccess(table)
        #expect(table.stdout.contains("\ntotal: 2 nodes, 482 parameters, ? (symbolic dims: bind them with --input-shape) FLOPs\n"))
    }

    @Test func inspectBindingErrors() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        try tmp.write("two.convnet", """
            input a: [N, 2, H, 5]
            input b: [N, 2, 5, W]
            s = Add(a, b)
            output s

            """)
        func inspect(_ args: String...) throws -> CLIResult { try CLI.run(["inspect", "two.convnet"] + args, in: tmp.url) }
        expectSuccess(try inspect("--input-shape", "a=1,2,5,5", "--input-shape", "b=1,2,5,5"))
        expectError(try inspect("--input-shape", "a=1,2,5,5", "--input-shape", "b=2,2,5,5"),
                    "input 'b' binds N=2, but N is already 1")
        expectError(try inspect("--input-shape", "c=1"), "--input-shape: unknown input 'c'; the model's inputs are a, b")
        expectError(try inspect("--input-shape", "a=1,2,x,5"),
                    "--input-shape expects NAME=D1,D2,... with non-negative integers, but got 'a=1,2,x,5'")
        expectError(try inspect("--input-shape", "a=1,2,5"), "input 'a' expects shape [N, 2, H, 5], but got [1, 2, 5]")
        expectError(try inspect("--input-shape", "a=1,2,5,6"), "input 'a' expects shape [N, 2, H, 5], but got [1, 2, 5, 6]")
    }

    // MARK: errors

    @Test func missingFiles() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        expectError(try CLI.run(["infer", tmp.path("missing.pb"), "x.npy"]),
                    "\(tmp.path("missing.pb")): cannot read file: No such file or directory")
        // Foundation words the reason differently per platform.
        expectErrorPrefix(try CLI.run(["compile", tmp.path("missing.convnet")]),
                          "\(tmp.path("missing.convnet")): cannot read file: ")
        expectErrorPrefix(try CLI.run(["infer", "Models/lazy2d.pb", tmp.path("missing.npy")]),
                          "\(tmp.path("missing.npy")): cannot read file: ")
        expectErrorPrefix(try CLI.run(["compile", "Models/lazy2d.convnet", "--weights", tmp.path("missing.npz"), "-o", tmp.path("o.pb")]),
                          "\(tmp.path("missing.npz")): cannot read file: ")
        try tmp.write("w.convnet", "input x: [1, 1, 3]\nweights \"nothere.npz\"\nc = Conv1d(x, in_channels=1, out_channels=1, kernel_size=1)\noutput c\n")
        expectErrorPrefix(try CLI.run(["compile", "w.convnet"], in: tmp.url), "w.convnet:2:9: ")
        #expect(!FileManager.default.fileExists(atPath: tmp.path("o.pb")) && !FileManager.default.fileExists(atPath: tmp.path("w.pb")))
    }

    /// Parse and configuration errors carry `file:line:col` and the layer.
    @Test func modelErrors() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let cases: [(source: String, error: String)] = [
            ("input x: [1, 3, 8, 8]\ny = Conv2d(x, in_channels=3 out_channels=4, kernel_size=3)\noutput y\n",
             "m.convnet:2:29: Conv2d 'y': expected ')' but found name 'out_channels'"),
            ("input x: [1, 3, 8, 8]\ny = Conv2D(x, in_channels=3, out_channels=4, kernel_size=3)\noutput y\n",
             "m.convnet:2:5: unknown layer 'Conv2D'; did you mean 'Conv2d'?"),
            ("input x: [1, 3, 8, 8]\ny = Conv2d(x, in_channels=3, out_channels=4, kernel_size=3, groups=2)\noutput y\n",
             "m.convnet:2:1: Conv2d 'y': in_channels must be divisible by groups"),
            ("input x: [1, 3, 4, 4]\ny = Conv2d(x, in_channels=3, out_channels=4, kernel_size=5)\noutput y\n",
             "m.convnet:2:1: Conv2d 'y': Calculated padded input size per channel: (4 x 4). Kernel size: (5 x 5). Kernel size can't be greater than actual input size"),
            ("input x: [1, 4, 8, 8]\ny = Conv2d(x, in_channels=3, out_channels=4, kernel_size=3)\noutput y\n",
             "m.convnet:2:1: Conv2d 'y': Given groups=1, weight of size [4, 3, 3, 3], expected input[1, 4, 8, 8] to have 3 channels, but got 4 channels instead"),
        ]
        for (source, error) in cases {
            try tmp.write("m.convnet", source)
            for command in ["compile", "inspect"] {
                expectError(try CLI.run([command, "m.convnet"], in: tmp.url), error)
            }
            expectError(try CLI.run(["infer", "m.convnet", "in.npy"], in: tmp.url), error)
        }
    }

    @Test func weightsErrors() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        try tmp.write("m.convnet", "input x: [1, 3, 8, 8]\ny = Conv2d(x, in_channels=3, out_channels=4, kernel_size=3)\noutput y\n")
        let weight = Tensor(zeros: [4, 3, 3, 3]), bias = Tensor(zeros: [4])
        let sets: [(file: String, entries: [(name: String, tensor: Tensor)], error: String?)] = [
            ("ok.npz", [("y.weight", weight), ("y.bias", bias)], nil),
            ("missing.npz", [("y.weight", weight)], "m.convnet:2:1: Conv2d 'y': missing.npz: missing key 'y.bias' (expected shape [4])"),
            ("extra.npz", [("y.weight", weight), ("y.bias", bias), ("z.weight", bias)],
             "extra.npz: unexpected key 'z.weight': no layer of the model uses it"),
            ("shape.npz", [("y.weight", Tensor(zeros: [4, 3, 3, 2])), ("y.bias", bias)],
             "m.convnet:2:1: Conv2d 'y': shape.npz: key 'y.weight' has shape [4, 3, 3, 2], but the layer needs [4, 3, 3, 3]"),
        ]
        for set in sets {
            try NPZ.write(set.entries, to: tmp.url.appendingPathComponent(set.file))
            let result = try CLI.run(["compile", "m.convnet", "--weights", set.file, "-o", "out.pb"], in: tmp.url)
            if let error = set.error {
                expectError(result, error)
                expectError(try CLI.run(["inspect", "m.convnet", "--weights", set.file], in: tmp.url), error)
            } else {
                expectSuccess(result)
                #expect(result.stdout == "wrote out.pb: 1 nodes, 2 weights\n")
            }
        }
        // The same checks through the file's own weights statement.
        try tmp.write("s.convnet", "input x: [1, 3, 8, 8]\nweights \"missing.npz\"\ny = Conv2d(x, in_channels=3, out_channels=4, kernel_size=3)\noutput y\n")
        expectError(try CLI.run(["compile", "s.convnet"], in: tmp.url),
                    "s.convnet:3:1: Conv2d 'y': missing.npz: missing key 'y.bias' (expected shape [4])")
    }

    @Test func inputShapeMismatch() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let wrong = try tmp.write("wrong.npy", tensor: Tensor(zeros: [1, 3, 31, 32]))
        let unbatched = try tmp.write("unbatched.npy", tensor: Tensor(zeros: [3, 32, 32]))
        for model in ["Models/lazy2d.pb", "Models/lazy2d.convnet"] {
            expectError(try CLI.run(["infer", model, wrong]), "input 'x' expects shape [1, 3, 32, 32], but got [1, 3, 31, 32]")
            expectError(try CLI.run(["infer", model, unbatched]), "input 'x' expects shape [1, 3, 32, 32], but got [3, 32, 32]")
        }
        // A symbolic length binds at run time, and the layer's check then fails with its location.
        try tmp.write("s.convnet", "input x: [N, 1, L]\nc = Conv1d(x, in_channels=1, out_channels=2, kernel_size=4)\noutput c\n")
        try tmp.write("short.npy", tensor: Tensor(zeros: [2, 1, 2]))
        expectSuccess(try CLI.run(["compile", "s.convnet"], in: tmp.url))
        for model in ["s.convnet", "s.pb"] {
            expectError(try CLI.run(["infer", model, "short.npy"], in: tmp.url),
                        "s.convnet:2:1: Conv1d 'c': Calculated padded input size per channel: (2). Kernel size: (4). Kernel size can't be greater than actual input size")
        }
    }

    @Test func corruptFiles() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let garbage = Data("this is not a model or an array\n".utf8)
        let pb = try tmp.write("g.pb", bytes: garbage)
        expectError(try CLI.run(["infer", pb, "Models/lazy2d.input.npy"]), "\(pb): not a valid convrt model: malformed protobuf data")
        expectError(try CLI.run(["inspect", pb]), "\(pb): not a valid convrt model: malformed protobuf data")
        try tmp.write("empty.pb", bytes: Data())
        expectError(try CLI.run(["inspect", "empty.pb"], in: tmp.url), "empty.pb: unsupported format_version 0 (this convrt reads version 1)")

        let npy = try tmp.write("g.npy", bytes: garbage)
        expectError(try CLI.run(["infer", "Models/lazy2d.pb", npy]), "\(npy): not a .npy file (bad magic bytes)")
        let pbBytes = try Data(contentsOf: Self.models.appendingPathComponent("lazy2d.pb"))
        let cut = try tmp.write("cut.pb", bytes: pbBytes.prefix(pbBytes.count / 2))
        expectError(try CLI.run(["inspect", cut]), "\(cut): not a valid convrt model: data is truncated")

        let npz = Data(try Data(contentsOf: Self.models.appendingPathComponent("lazy2d.npz")).dropLast(10))
        let truncated = try tmp.write("t.npz", bytes: npz)
        expectError(try CLI.run(["compile", "Models/lazy2d.convnet", "--weights", truncated, "-o", tmp.path("o.pb")]),
                    "\(truncated): not a zip archive (no end of central directory record)")
    }

    @Test func unknownExtensions() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        try tmp.write("m.xyz", "")
        expectError(try CLI.run(["infer", "m.xyz", "x.npy"], in: tmp.url), "m.xyz: unknown model format '.xyz'; expected .convnet, .pb or .onnx")
        expectError(try CLI.run(["inspect", "m.xyz"], in: tmp.url), "m.xyz: unknown model format '.xyz'; expected .convnet, .pb or .onnx")
        try tmp.write("m.onnx", "")
        expectError(try CLI.run(["inspect", "m.onnx"], in: tmp.url), "m.onnx: not a valid ONNX model: the file is empty")
        expectError(try CLI.run(["compile", "Models/lazy2d.pb"]), "Models/lazy2d.pb: compile expects a .convnet file")
        let out = tmp.path("out.txt")
        expectError(try CLI.run(["infer", "Models/lazy2d.pb", "Models/lazy2d.input.npy", "-o", out]),
                    "\(out): unknown output format; use .npy (one output) or .npz (any number of outputs)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// ArgumentParser's usage errors are one line too (with its usage exit status, 64).
    @Test func usageErrors() throws {
        expectErrorPrefix(try CLI.run(["infer"]), "Missing expected argument '<model>' (see 'convrt infer --help')", status: 64)
        expectErrorPrefix(try CLI.run(["inspect", "Models/lazy2d.pb", "--format", "xml"]),
                          "The value 'xml' is invalid for '--format <format>' (see 'convrt inspect --help')", status: 64)
        expectErrorPrefix(try CLI.run(["frobnicate"]), "Unexpected argument 'frobnicate' (see 'convrt --help')", status: 64)
        let help = try CLI.run(["infer", "--help"])
        #expect(help.status == 0 && help.stdout.contains("USAGE: convrt infer"), "\(help)")
    }

    // MARK: regressions

    /// A `.pb` listing an output twice used to pass the decoder and trap in the executor.
    @Test func duplicateOutputsInPB() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let graph = Graph(inputs: [GraphInput(name: "x", shape: [.known(2)])], nodes: [Node(name: "r", op: .activation(.relu), inputs: ["x"])],
                          outputs: ["r", "r"])
        try ModelFile.write(graph, to: tmp.url.appendingPathComponent("dup.pb"))
        try tmp.write("x.npy", tensor: Tensor(zeros: [2]))
        let result = try CLI.run(["infer", "dup.pb", "x.npy"], in: tmp.url)
        expectError(result, "output 'r' is listed twice")
    }

    /// Shapes whose element counts overflow `Int` used to trap; they are errors.
    @Test func overflowingSizes() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        try tmp.write("big.convnet", "input x: [1000000000, 3, 1000000000, 1000000000]\ny = Conv2d(x, in_channels=3, out_channels=4, kernel_size=3)\noutput y\n")
        try tmp.write("dil.convnet", "input x: [1, 3, 8, 8]\ny = Conv2d(x, in_channels=3, out_channels=4, kernel_size=3, dilation=4611686018427387904)\noutput y\n")
        try tmp.write("tr.convnet", "input x: [1, 3, 8, 8]\ny = ConvTranspose2d(x, in_channels=3, out_channels=4, kernel_size=3, stride=4611686018427387904)\noutput y\n")
        for args in [["inspect", "big.convnet"], ["compile", "dil.convnet"], ["compile", "tr.convnet"]] {
            let result = try CLI.run(args, in: tmp.url)
            #expect(result.exited && result.status == 1 && result.stderr.hasPrefix("error: "), "\(args): \(result)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(args): \(result)")
        }
    }
}

/// `convrt bench --profile` and `CompiledModel.profile`: one timing per plan step.
@Suite struct BenchProfileTests {
    @Test func profileTimesEveryPlanStep() throws {
        let url = packageRootURL.appendingPathComponent("Models/lazy2d.convnet")
        let model = CompiledModel(graph: try ModelCompiler.load(contentsOf: url).graph)
        let shape = try #require(model.graph.inputs.first?.shape.concrete)
        let input = Tensor(shape: shape, data: [Float](repeating: 0.25, count: shape.reduce(1, *)))
        let name = model.graph.inputs[0].name
        let steps = try model.profile([name: input], warmup: 0, iterations: 3)
        let plan = try model.plan(for: [name: shape])
        #expect(steps.map(\.index) == Array(plan.steps.indices))
        #expect(steps.allSatisfy { $0.milliseconds >= 0 } && steps.contains { $0.milliseconds > 0 })
        #expect(steps.map(\.step.opName) == plan.steps.map(\.opName))
    }

    @Test func benchProfilePrintsTheStepsSlowestFirst() throws {
        let result = try CLI.run(["bench", "Models/lazy2d.convnet", "--iterations", "3", "--warmup", "0", "--profile"])
        expectSuccess(result)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex { $0.hasPrefix("steps by median time") })
        let rows = lines[(header + 3)...].filter { !$0.isEmpty }
        let plan = try CompiledModel(graph: try ModelCompiler.load(contentsOf: packageRootURL.appendingPathComponent("Models/lazy2d.convnet")).graph)
            .plan(for: ["x": [1, 3, 32, 32]])
        #expect(rows.count == plan.steps.count, "\(result.stdout)")
        let ms = rows.compactMap { $0.split(separator: " ").dropLast().last.flatMap { Double($0) } }
        #expect(ms == ms.sorted(by: >), "\(result.stdout)")
        let refused = try CLI.run(["bench", "Models/lazy2d.convnet", "--profile", "--reference", "--iterations", "1"])
        #expect(refused.status == 1 && refused.stderr.contains("--profile"), "\(refused)")
    }
}
