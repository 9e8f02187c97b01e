import Foundation
import Testing
@testable import ConvRT

/// Models the importer must refuse: one line naming the file (and node), never a trap.
@Suite struct ONNXRejectionTests {
    @Test func unsupportedOperatorsAreListedTogether() {
        var m = ONNXModel()
        m.input("x", [1, 4])
        m.node("NonMaxSuppression", ["x"], ["a"], name: "nms_1")
        m.node("Loop", ["a"], ["b"], name: "loop")
        m.node("Relu", ["b"], ["c"])
        m.node("Loop", ["c"], ["d"], name: "loop_2")
        m.node("FusedConv", ["d"], ["y"], name: "fc", domain: "com.microsoft")
        m.extraOpsets = [("com.microsoft", 1)]
        m.output("y")
        #expect(m.importError() == "m.onnx: unsupported operators: NonMaxSuppression (node 'nms_1'), Loop (nodes 'loop', 'loop_2'), com.microsoft.FusedConv (node 'fc')")
    }

    @Test func longListsAreCut() {
        var m = ONNXModel()
        m.input("x", [1])
        var last = "x"
        for i in 0..<10 {
            m.node("Foo", [last], ["f\(i)"])
            last = "f\(i)"
        }
        m.output(last)
        #expect(m.importError() == "m.onnx: unsupported operator: Foo (nodes 'f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7' and 2 more)")
    }

    @Test func structuralErrors() {
        var cycle = ONNXModel()
        cycle.input("x", [2])
        cycle.node("Add", ["x", "b"], ["a"], name: "first")
        cycle.node("Relu", ["a"], ["b"], name: "second")
        cycle.node("Relu", ["a"], ["y"], name: "out")
        cycle.output("y")
        #expect(cycle.importError() == "m.onnx: the graph has a cycle through nodes 'first', 'second', 'out'")

        var dangling = ONNXModel()
        dangling.input("x", [2])
        dangling.node("Add", ["x", "ghost"], ["y"], name: "add")
        dangling.output("y")
        #expect(dangling.importError() == "m.onnx: Add node 'add' reads 'ghost', which no node, graph input or initializer produces")

        var noOutput = ONNXModel()
        noOutput.input("x", [2])
        noOutput.output("nowhere")
        #expect(noOutput.importError() == "m.onnx: graph output 'nowhere' is not produced by any node, graph input or initializer")

        var twice = ONNXModel()
        twice.input("x", [2])
        twice.node("Relu", ["x"], ["y"], name: "a")
        twice.node("Relu", ["x"], ["y"], name: "b")
        twice.output("y")
        #expect(twice.importError() == "m.onnx: Relu node 'b' writes 'y', which is already a output of Relu node 'a'")

        var missingWeight = ONNXModel()
        missingWeight.input("x", [1, 1, 4, 4])
        missingWeight.node("Conv", ["x", "w"], ["y"])
        missingWeight.output("y")
        #expect(missingWeight.importError() == "m.onnx: Conv node 'y' reads 'w', which no node, graph input or initializer produces")
    }

    @Test func opsetAndFileErrors() throws {
        #expect(singleNode("Relu", shape: [2], opset: 9).importError()
                == "m.onnx: opset 9 is not supported; convrt reads opsets 11 to 21 (re-export with opset_version=17)")
        #expect(singleNode("Relu", shape: [2], opset: 22).importError()?.hasPrefix("m.onnx: opset 22 is not supported") == true)
        var noOpset = singleNode("Relu", shape: [2]).proto
        noOpset.opsetImport = []
        #expect(throws: ConvRTError("m.onnx: the model imports no default-domain opset (opset_import)")) {
            try ONNXImporter.importModel(try noOpset.serializedBytes(), file: "m.onnx")
        }
        let bytes = try singleNode("Relu", shape: [2]).data()
        #expect(throws: ConvRTError("m.onnx: not a valid ONNX model: data is truncated")) {
            try ONNXImporter.importModel(bytes.prefix(bytes.count - 3), file: "m.onnx")
        }
        #expect(throws: ConvRTError("m.onnx: the model has no graph")) {
            try ONNXImporter.importModel(Data([0x08, 0x08]), file: "m.onnx")
        }
    }

    @Test func typeErrors() {
        let intInput = singleNode("Relu", shape: [2]) { m in
            m.graph.input.removeAll()
            m.input("x", [2], type: .int64)
        }
        #expect(intInput.importError() == "m.onnx: input 'x' has element type INT64; convrt runs float32 models only")
        var half = singleNode("Add", shape: [2], inputs: ["h"])
        var t = Onnx_TensorProto()
        t.name = "h"; t.dataType = Int32(Onnx_TensorProto.DataType.float16.rawValue); t.dims = [2]; t.rawData = Data(count: 4)
        half.graph.initializer.append(t)
        #expect(half.importError() == "m.onnx: tensor 'h' has element type FLOAT16, which convrt does not support (float32 and integer tensors only)")
        var short = singleNode("Add", shape: [2], inputs: ["s"])
        var s = Onnx_TensorProto()
        s.name = "s"; s.dataType = 1; s.dims = [2]; s.rawData = Data(count: 7)
        short.graph.initializer.append(s)
        #expect(short.importError() == "m.onnx: tensor 's' has 7 bytes of raw data, but its shape needs 8")
        let castInt = singleNode("Cast", shape: [2], ["to": .int(7)])
        #expect(castInt.importError() == "m.onnx: Cast node 'y': Cast of a run-time tensor to INT64 is not supported (convrt computes in float32)")
        let noShape = singleNode("Relu", shape: [2]) { m in m.graph.input[0].type.tensorType.clearShape() }
        #expect(noShape.importError() == "m.onnx: input 'x' has no shape; convrt needs at least its rank")
    }

    @Test func externalDataIsRejected() {
        var m = singleNode("Add", shape: [2], inputs: ["w"])
        var t = Onnx_TensorProto()
        t.name = "w"; t.dataType = 1; t.dims = [2]; t.dataLocation = .external
        var location = Onnx_StringStringEntryProto()
        location.key = "location"; location.value = "weights.bin"
        t.externalData = [location]
        m.graph.initializer.append(t)
        #expect(m.importError() == "m.onnx: tensor 'w' keeps its data in an external file ('weights.bin'); convrt reads self-contained .onnx files only (save with onnx.save(model, path, save_as_external_data=False))")
    }

    @Test func badAttributes() {
        let group = singleNode("Conv", shape: [1, 2, 4, 4], inputs: ["w"], ["group": .float(2)]) { $0.weight("w", [2, 1, 3, 3]) }
        #expect(group.importError() == "m.onnx: Conv node 'y': attribute 'group' must be an int")
        let count = singleNode("Conv", shape: [1, 2, 4, 4], inputs: ["w"], ["strides": .ints([1, 1, 1])]) { $0.weight("w", [2, 2, 3, 3]) }
        #expect(count.importError() == "m.onnx: Conv node 'y': attribute 'strides' has 3 values, but 2 are needed")
        let huge = singleNode("Conv", shape: [1, 2, 4, 4], inputs: ["w"], ["group": .int(1 << 40)]) { $0.weight("w", [2, 2, 3, 3]) }
        #expect(huge.importError() == "m.onnx: Conv node 'y': attribute 'group' value 1099511627776 is too large (the limit is 1073741824)")
        let both = singleNode("Conv", shape: [1, 2, 4, 4], inputs: ["w"], ["auto_pad": .string("VALID"), "pads": .ints([0, 0, 0, 0])]) {
            $0.weight("w", [2, 2, 3, 3])
        }
        #expect(both.importError() == "m.onnx: Conv node 'y': pads cannot be used together with auto_pad VALID")
        let noKernel = singleNode("MaxPool", shape: [1, 1, 4, 4])
        #expect(noKernel.importError() == "m.onnx: MaxPool node 'y': attribute 'kernel_shape' is missing")
        // Shape inference of the finished graph names the layer (here PyTorch's channel check).
        let channels = singleNode("Conv", shape: [1, 3, 4, 4], inputs: ["w"]) { $0.weight("w", [2, 2, 3, 3]) }
        #expect(channels.importError()?.contains("expected input[1, 3, 4, 4] to have 2 channels, but got 3 channels instead") == true)
    }

    /// Truncated and corrupted files: an error every time, never a crash.
    @Test func corruptedFilesNeverTrap() throws {
        let url = ONNXFixtureTests.directory.appendingPathComponent("residual_add.onnx")
        let bytes = [UInt8](try Data(contentsOf: url))
        var rng = SplitMix64(seed: 5)
        var errors = 0
        for i in 0..<300 {
            var copy = bytes
            if i % 3 == 0 {
                copy = Array(copy.prefix(Int(rng.next() % UInt64(copy.count))))
            } else {
                for _ in 0..<(1 + i % 4) { copy[Int(rng.next() % UInt64(copy.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            }
            do {
                let graph = try ONNXImporter.importModel(Data(copy), file: "f.onnx")
                _ = try? ShapeInference.run(graph)
            } catch let error as ConvRTError {
                #expect(error.description.hasPrefix("f.onnx: ") && !error.description.contains("\n"))
                errors += 1
            }
        }
        #expect(errors > 100)
    }
}

/// `convrt import`, and infer/inspect/bench reading `.onnx` directly.
@Suite struct ONNXCLITests {
    static let fixture = "Tests/ConvRTTests/Fixtures/onnx/conv_bn_relu"

    @Test func importWritesARunnablePB() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let pb = tmp.path("m.pb")
        let result = try CLI.run(["import", "\(Self.fixture).onnx", "-o", pb])
        expectSuccess(result)
        #expect(result.stdout == "wrote \(pb): 3 nodes, 6 weights\n")
        for model in [pb, "\(Self.fixture).onnx"] {
            expectSuccess(try CLI.run(["infer", model, "\(Self.fixture).in.npy", "-o", tmp.path("out.npy")]))
            let out = try NPY.read(contentsOf: URL(fileURLWithPath: tmp.path("out.npy"))).tensor
            let expected = try NPY.read(contentsOf: packageRootURL.appendingPathComponent("\(Self.fixture).out.npy")).tensor
            expectClose(out, expected, model)
        }
        let inspect = try CLI.run(["inspect", "\(Self.fixture).onnx"])
        expectSuccess(inspect)
        #expect(inspect.stdout.contains("/1/BatchNormalization  BatchNorm2d"))
        expectSuccess(try CLI.run(["bench", "\(Self.fixture).onnx", "--iterations", "1", "--warmup", "0"]))
    }

    @Test func formatIsSniffedWithoutTheExtension() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let copy = try tmp.write("model.bin", bytes: try Data(contentsOf: packageRootURL.appendingPathComponent("\(Self.fixture).onnx")))
        expectSuccess(try CLI.run(["inspect", copy]))
        #expect(try ModelFormat.detect(URL(fileURLWithPath: copy)) == .onnx)
    }

    @Test func importErrors() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        expectError(try CLI.run(["import", "Models/lazy2d.convnet"]), "Models/lazy2d.convnet: import expects an .onnx file")
        var m = ONNXModel()
        m.input("x", [1, 4])
        m.node("TopK", ["x"], ["y"], name: "top")
        m.output("y")
        let path = try tmp.write("bad.onnx", bytes: try m.data())
        expectError(try CLI.run(["import", path]), "\(path): unsupported operator: TopK (node 'top')")
        expectError(try CLI.run(["infer", path, "x.npy"]), "\(path): unsupported operator: TopK (node 'top')")
    }
}
