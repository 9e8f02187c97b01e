import Foundation
import Testing
@testable import ConvRT

/// Parses DSL text (file `m.convnet`) and runs shape inference on its declared shapes.
private func inferShapes(_ text: String) throws -> InferredGraph {
    try ShapeInference.run(ConvnetParser.parse(text, file: "m.convnet").graph)
}

/// The error text `body` throws, or nil.
private func errorText(_ body: () throws -> Any) -> String? {
    do {
        _ = try body()
        return nil
    } catch {
        return String(describing: error)
    }
}

private func conv(_ name: String, _ input: String, in c: Int?, out: Int, k: [Int], groups: Int = 1,
                  transposed: Bool = false) -> Node {
    Node(name: name, op: .conv(ConvAttributes(spatialRank: k.count, transposed: transposed, isLazy: c == nil,
                                              inChannels: c, outChannels: out, kernelSize: k, groups: groups)),
         inputs: [input])
}

/// Shape inference (symbolic dims, Lazy channels, batching, output_size), the graph verifier,
/// and weight binding / seeded init.
@Suite struct ShapeInferenceTests {
    // MARK: symbolic dims

    static let symbolic = """
        input x: [N, 3, H, W]
        down = Conv2d(x, in_channels=3, out_channels=8, kernel_size=3, stride=2, padding=1)
        act = ReLU(down)
        up = ConvTranspose2d(act, in_channels=8, out_channels=4, kernel_size=4, stride=2, padding=1)
        cols = Unfold(up, kernel_size=2, stride=2)
        output down, cols

        """

    @Test func symbolicDimsAreCarriedThrough() throws {
        let inferred = try inferShapes(Self.symbolic)
        #expect(inferred.shape(of: "x") == [.symbol("N"), .known(3), .symbol("H"), .symbol("W")])
        #expect(inferred.shape(of: "down").rendered == "[N, 8, (H-1)/2+1, (W-1)/2+1]")
        #expect(inferred.shape(of: "act") == inferred.shape(of: "down"))
        #expect(inferred.shape(of: "up").rendered == "[N, 4, ((H-1)/2+1)*2, ((W-1)/2+1)*2]")
        #expect(inferred.shape(of: "cols").rendered == "[N, 16, ((((H-1)/2+1)*2-2)/2+1)*((((W-1)/2+1)*2-2)/2+1)]")
        #expect(ModelSummary(inferred).totalFLOPs == nil)
    }

    /// Binding concrete shapes resolves every expression to what the concrete arithmetic gives.
    @Test(arguments: [[1, 3, 32, 32], [2, 3, 33, 31], [0, 3, 1, 2], [5, 3, 7, 4]])
    func bindingResolvesSymbols(_ shape: [Int]) throws {
        let graph = try ConvnetParser.parse(Self.symbolic, file: "m.convnet").graph
        let bound = try ShapeInference.bindInputs(graph, shapes: ["x": shape])
        #expect(bound == ["x": shape.dims])
        let inferred = try ShapeInference.run(graph, inputShapes: bound)
        let (n, h, w) = (shape[0], shape[2], shape[3])
        let (dh, dw) = ((h + 2 - 3) / 2 + 1, (w + 2 - 3) / 2 + 1)
        #expect(inferred.shape(of: "down").concrete == [n, 8, dh, dw])
        #expect(inferred.shape(of: "up").concrete == [n, 4, dh * 2, dw * 2])
        #expect(inferred.shape(of: "cols").concrete == [n, 16, dh * dw])
        #expect(ModelSummary(inferred).totalFLOPs != nil)
        // The executor binds the same way and produces those shapes.
        var compiled = inferred
        compiled.graph.weights = WeightBinding.initialize(compiled.graph, seed: 0)
        let outputs = try ReferenceExecutor.run(compiled.graph, inputs: ["x": Tensor(zeros: shape)])
        #expect(outputs["down"]?.shape == [n, 8, dh, dw] && outputs["cols"]?.shape == [n, 16, dh * dw])
    }

    @Test func bindingErrors() throws {
        let graph = try ConvnetParser.parse("""
            input a: [N, 2, H, 5]
            input b: [N, 2, 5, H]
            s = Add(a, b)
            output s

            """, file: "m.convnet").graph
        #expect(try ShapeInference.bindInputs(graph, shapes: ["a": [3, 2, 5, 5], "b": [3, 2, 5, 5]])["b"] == [3, 2, 5, 5].dims)
        let cases: [([String: [Int]], String)] = [
            (["a": [1, 2, 5, 5], "b": [2, 2, 5, 5]], "input 'b' binds N=2, but N is already 1"),
            (["a": [1, 2, 4, 5], "b": [1, 2, 5, 5]], "input 'b' binds H=5, but H is already 4"),
            (["a": [1, 2, 5, 5]], "missing input 'b' (expected shape [N, 2, 5, H])"),
            (["a": [1, 2, 5, 5], "b": [1, 2, 5, 5], "c": [1]], "unknown input 'c'; the model's inputs are a, b"),
            (["a": [1, 2, 5], "b": [1, 2, 5, 5]], "input 'a' expects shape [N, 2, H, 5], but got [1, 2, 5]"),
            (["a": [1, 3, 5, 5], "b": [1, 2, 5, 5]], "input 'a' expects shape [N, 2, H, 5], but got [1, 3, 5, 5]"),
        ]
        for (shapes, message) in cases {
            #expect(errorText { try ShapeInference.bindInputs(graph, shapes: shapes) } == message)
        }
        #expect(errorText { try ShapeInference.run(graph, inputShapes: ["a": [.known(-1), .known(2), .known(5), .known(5)]]) }
                == "input 'a' has a negative dimension -1 in [-1, 2, 5, 5]")
    }

    @Test func symbolicChannelsAreAnError() {
        #expect(errorText { try inferShapes("input x: [1, C, 8]\nc = LazyConv1d(x, out_channels=2, kernel_size=3)\noutput c\n") }
                == "m.convnet:2:1: LazyConv1d 'c': the input's channel dimension must be known when the model is compiled, but it is 'C'")
    }

    // MARK: Lazy layers

    @Test func lazyInChannelsAreResolved() throws {
        let parsed = try ConvnetParser.parse("""
            input x: [2, 3, 9, 9]
            a = LazyConv2d(x, out_channels=6, kernel_size=3, groups=3)
            b = LazyConvTranspose2d(a, out_channels=4, kernel_size=2, stride=2, groups=2)
            u = LazyConv2d(b, out_channels=1, kernel_size=1)
            output b, u

            """, file: "m.convnet")
        for node in parsed.graph.nodes {
            guard case .conv(let attributes) = node.op else { continue }
            #expect(attributes.inChannels == nil && attributes.isLazy)
        }
        #expect(WeightBinding.parameters(of: parsed.graph).isEmpty)
        let inferred = try ShapeInference.run(parsed.graph)
        let channels = inferred.graph.nodes.map { node -> Int? in
            if case .conv(let a) = node.op { return a.inChannels }
            return nil
        }
        #expect(channels == [3, 6, 4])
        #expect(inferred.shape(of: "a").concrete == [2, 6, 7, 7])
        #expect(inferred.shape(of: "b").concrete == [2, 4, 14, 14])
        let shapes = WeightBinding.parameters(of: inferred.graph).map { "\($0.key)\($0.shape.bracketed)" }
        #expect(shapes == ["a.weight[6, 1, 3, 3]", "a.bias[6]", "b.weight[6, 2, 2, 2]", "b.bias[4]",
                           "u.weight[1, 4, 1, 1]", "u.bias[1]"])
        // Unbatched input: in_channels is dim 0.
        let unbatched = try inferShapes("input x: [5, 8]\nc = LazyConv1d(x, out_channels=2, kernel_size=3)\noutput c\n")
        guard case .conv(let a) = unbatched.graph.nodes[0].op else { return #expect(Bool(false)) }
        #expect(a.inChannels == 5 && unbatched.shape(of: "c").concrete == [2, 6])
    }

    @Test func lazyErrors() {
        let cases: [(String, String)] = [
            ("input x: [1, 3, 8, 8]\nc = LazyConv2d(x, out_channels=4, kernel_size=3, groups=2)\noutput c\n",
             "m.convnet:2:1: LazyConv2d 'c': in_channels must be divisible by groups"),
            ("input x: [1, 4, 8, 8]\nc = LazyConv2d(x, out_channels=6, kernel_size=3, groups=4)\noutput c\n",
             "m.convnet:2:1: LazyConv2d 'c': Given groups=4, expected weight to be divisible by 4 at dimension 0, but got weight of size [[6, 1, 3, 3]] instead"),
            ("input x: [4, 8]\nc = LazyConv2d(x, out_channels=6, kernel_size=3)\noutput c\n",
             "m.convnet:2:1: LazyConv2d 'c': Expected 3D (unbatched) or 4D (batched) input to LazyConv2d, but got input of size: torch.Size([4, 8])"),
        ]
        for (source, message) in cases {
            #expect(errorText { try inferShapes(source) } == message)
        }
    }

    // MARK: unbatched and empty batches

    @Test(arguments: [
        ("Conv1d(x, in_channels=2, out_channels=3, kernel_size=3)", [2, 7], [3, 5]),
        ("Conv2d(x, in_channels=2, out_channels=3, kernel_size=3, padding=1)", [2, 5, 6], [3, 5, 6]),
        ("Conv3d(x, in_channels=2, out_channels=3, kernel_size=2, stride=2)", [2, 4, 4, 6], [3, 2, 2, 3]),
        ("ConvTranspose2d(x, in_channels=2, out_channels=3, kernel_size=3, stride=2)", [2, 4, 4], [3, 9, 9]),
        ("Unfold(x, kernel_size=2)", [2, 4, 5], [8, 12]),
        ("Fold(x, output_size=(4, 5), kernel_size=2)", [8, 12], [2, 4, 5]),
        ("Conv2d(x, in_channels=2, out_channels=3, kernel_size=3)", [0, 2, 5, 5], [0, 3, 3, 3]),
        ("ConvTranspose1d(x, in_channels=2, out_channels=4, kernel_size=3, groups=2)", [0, 2, 5], [0, 4, 7]),
        ("Unfold(x, kernel_size=2)", [0, 2, 4, 5], [0, 8, 12]),
        ("Fold(x, output_size=(4, 5), kernel_size=2)", [0, 8, 12], [0, 2, 4, 5]),
    ] as [(String, [Int], [Int])])
    func unbatchedAndEmptyBatches(_ layer: String, _ input: [Int], _ output: [Int]) throws {
        let shape = input.map(String.init).joined(separator: ", ")
        let parsed = try ConvnetParser.parse("input x: [\(shape)]\ny = \(layer)\noutput y\n", file: "m.convnet")
        let inferred = try ShapeInference.run(parsed.graph)
        #expect(inferred.shape(of: "y").concrete == output)
        var graph = inferred.graph
        graph.weights = WeightBinding.initialize(graph, seed: 3)
        let result = try ReferenceExecutor.run(graph, inputs: ["x": sampleTensor(input)])
        #expect(result["y"]?.shape == output)
    }

    // MARK: ConvTranspose output_size

    static func transposed(_ outputSize: String, input: String = "[1, 8, 6, 6]") -> String {
        "input x: \(input)\nt = ConvTranspose2d(x, in_channels=8, out_channels=4, kernel_size=3, stride=2, padding=1\(outputSize))\noutput t\n"
    }

    @Test func outputSizeSpatialAndFull() throws {
        #expect(try inferShapes(Self.transposed("")).shape(of: "t").concrete == [1, 4, 11, 11])
        let base = try ShapeInference.run(ConvnetParser.parse(Self.transposed(", output_padding=1"), file: "m.convnet").graph)
        #expect(base.shape(of: "t").concrete == [1, 4, 12, 12])
        var reference = base.graph
        reference.weights = WeightBinding.initialize(reference, seed: 1)
        let x = sampleTensor([1, 8, 6, 6])
        let expected = try ReferenceExecutor.run(reference, inputs: ["x": x])["t"]
        for size in [", output_size=(12, 12)", ", output_size=(1, 4, 12, 12)", ", output_size=(12, 11)"] {
            var graph = try inferShapes(Self.transposed(size)).graph
            graph.weights = reference.weights
            let y = try ReferenceExecutor.run(graph, inputs: ["x": x])["t"]
            if size.hasSuffix("(12, 11)") {
                #expect(y?.shape == [1, 4, 12, 11])
            } else {
                #expect(y == expected, "\(size)")
            }
        }
        // Unbatched: the full form has 3 entries.
        #expect(try inferShapes(Self.transposed(", output_size=(4, 12, 11)", input: "[8, 6, 6]")).shape(of: "t").concrete == [4, 12, 11])
    }

    @Test func outputSizeErrors() {
        let prefix = "m.convnet:2:1: ConvTranspose2d 't': "
        let cases: [(String, String)] = [
            (Self.transposed(", output_size=(13, 13)"),
             "requested an output size of [13, 13], but valid sizes range from [11, 11] to [12, 12] (for an input of torch.Size([6, 6]))"),
            (Self.transposed(", output_size=(10, 12)"),
             "requested an output size of [10, 12], but valid sizes range from [11, 11] to [12, 12] (for an input of torch.Size([6, 6]))"),
            (Self.transposed(", output_size=(1, 12, 12)"), "ConvTranspose2D: for 4D input, output_size must have 2 or 4 elements (got 3)"),
            (Self.transposed(", output_size=(1, 4, 12, 12)", input: "[8, 6, 6]"),
             "ConvTranspose2D: for 3D input, output_size must have 2 or 3 elements (got 4)"),
        ]
        for (source, message) in cases {
            #expect(errorText { try inferShapes(source) } == prefix + message)
        }
    }

    // MARK: GraphVerifier

    @Test func verifierErrors() {
        let x = GraphInput(name: "x", shape: [.known(1), .known(2), .known(4)])
        let relu = Node(name: "r", op: .activation(.relu), inputs: ["x"], location: ConvRT.SourceLocation(file: "g.convnet", line: 3, column: 1))
        let cases: [(Graph, String)] = [
            (Graph(inputs: [x, x], nodes: [], outputs: ["x"]), "duplicate input name 'x'"),
            (Graph(inputs: [x], nodes: [Node(name: "s", op: .add, inputs: ["x"])], outputs: ["s"]), "Add 's': takes 2 inputs, got 1"),
            (Graph(inputs: [x], nodes: [Node(name: "r", op: .activation(.relu), inputs: ["x", "x"])], outputs: ["r"]), "ReLU 'r': takes 1 input, got 2"),
            (Graph(inputs: [x], nodes: [Node(name: "r", op: .activation(.relu), inputs: ["y"])], outputs: ["r"]), "ReLU 'r': undefined name 'y'"),
            (Graph(inputs: [x], nodes: [Node(name: "r", op: .activation(.relu), inputs: ["r"])], outputs: ["r"]), "ReLU 'r': undefined name 'r'"),
            (Graph(inputs: [x], nodes: [relu, relu], outputs: ["r"]), "g.convnet:3:1: ReLU 'r': duplicate name 'r'"),
            (Graph(inputs: [x], nodes: [Node(name: "x", op: .activation(.relu), inputs: ["x"])], outputs: ["x"]), "ReLU 'x': duplicate name 'x'"),
            (Graph(inputs: [x], nodes: [relu], outputs: []), "the model has no outputs"),
            (Graph(inputs: [x], nodes: [relu], outputs: ["r", "z"]), "output 'z' is not defined"),
            (Graph(inputs: [x], nodes: [conv("c", "x", in: 1, out: 1, k: [1]), conv("d", "e", in: 1, out: 1, k: [1])], outputs: ["d"]),
             "Conv1d 'd': undefined name 'e'"),
        ]
        for (graph, message) in cases {
            #expect(errorText { try GraphVerifier.verify(graph) } == message)
            // Shape inference verifies first. (Not with duplicate inputs: `run(_:)` builds a
            // dictionary of them before verifying and traps; reported to the lead.)
            if Set(graph.inputs.map(\.name)).count == graph.inputs.count {
                #expect(errorText { try ShapeInference.run(graph) } == message)
            }
        }
        #expect(errorText { try GraphVerifier.verify(Graph(inputs: [x], nodes: [relu], outputs: ["r", "x"])) } == nil)
    }

    // MARK: WeightBinding

    static let twoLayers = """
        input x: [1, 4, 6, 6]
        c = Conv2d(x, in_channels=4, out_channels=6, kernel_size=3, groups=2)
        t = ConvTranspose2d(c, in_channels=6, out_channels=4, kernel_size=(2, 3), groups=2)
        n = Conv2d(t, in_channels=4, out_channels=2, kernel_size=1, bias=false)
        output n

        """

    @Test func seededInitIsDeterministicAndBounded() throws {
        let graph = try inferShapes(Self.twoLayers).graph
        let a = WeightBinding.initialize(graph, seed: 42)
        #expect(a == WeightBinding.initialize(graph, seed: 42))
        let b = WeightBinding.initialize(graph, seed: 43)
        #expect(Set(a.keys) == ["c.weight", "c.bias", "t.weight", "t.bias", "n.weight"])
        for key in a.keys { #expect(a[key] != b[key], "\(key)") }
        // fan_in = weight.size(1) * prod(k): Conv in/g*k = 2*9, ConvTranspose out/g*k = 2*6, 1x1 conv 4.
        let fanIn = ["c": 18, "t": 12, "n": 4]
        #expect(a["c.weight"]?.shape == [6, 2, 3, 3] && a["t.weight"]?.shape == [6, 2, 2, 3] && a["n.weight"]?.shape == [2, 4, 1, 1])
        for (key, tensor) in a {
            let layer = String(key.prefix(while: { $0 != "." }))
            let bound = 1 / Float(fanIn[layer] ?? 1).squareRoot()
            #expect(tensor.data.allSatisfy { abs($0) <= bound }, "\(key) within ±\(bound)")
            // Not degenerate: values spread over the range.
            let spread = (tensor.data.max() ?? 0) - (tensor.data.min() ?? 0)
            #expect(tensor.count < 4 || spread > bound / 2, "\(key) spread \(spread)")
        }
        // Each key has its own stream: adding a layer leaves the others' values alone.
        let extended = try inferShapes(Self.twoLayers.replacingOccurrences(
            of: "output n", with: "m = Conv2d(n, in_channels=2, out_channels=2, kernel_size=1)\noutput m"))
        let c = WeightBinding.initialize(extended.graph, seed: 42)
        for key in a.keys { #expect(c[key] == a[key], "\(key)") }
    }

    @Test func zeroFanInGivesZeroBias() throws {
        let graph = try inferShapes("input x: [1, 0, 4]\nc = Conv1d(x, in_channels=0, out_channels=3, kernel_size=2)\noutput c\n").graph
        let weights = WeightBinding.initialize(graph, seed: 5)
        #expect(weights["c.weight"]?.shape == [3, 0, 2])
        #expect(weights["c.bias"] == Tensor(zeros: [3]))
    }

    static let grouped = """
        input x: [1, 4, 5, 5]
        c = Conv2d(x, in_channels=4, out_channels=6, kernel_size=3, groups=2)
        t = ConvTranspose2d(c, in_channels=6, out_channels=4, kernel_size=2, groups=2)
        output t

        """

    /// PyTorch's state_dict layout and MegEngine's grouped layout bind to the same parameters.
    @Test func megEngineLayoutIsAccepted() throws {
        let graph = try inferShapes(Self.grouped).graph
        let torch = WeightBinding.initialize(graph, seed: 9)
        let entries = torch.keys.sorted().compactMap { key in torch[key].map { (name: key, tensor: $0) } }
        #expect(try WeightBinding.bind(graph, entries: entries, file: "w.npz") == torch)
        let megEngine: [(name: String, tensor: Tensor)] = entries.map { entry in
            switch entry.name {
            case "c.weight": return (entry.name, entry.tensor.reshaped([2, 3, 2, 3, 3]))
            case "c.bias": return (entry.name, entry.tensor.reshaped([1, 6, 1, 1]))
            case "t.bias": return (entry.name, entry.tensor.reshaped([1, 4, 1, 1]))
            default: return entry
            }
        }
        #expect(try WeightBinding.bind(graph, entries: megEngine, file: "w.npz") == torch)
        // ConvTranspose weights have no MegEngine grouped form here.
        let groupedTranspose = megEngine.map { $0.name == "t.weight" ? ($0.name, $0.tensor.reshaped([2, 3, 2, 2, 2])) : $0 }
        #expect(errorText { try WeightBinding.bind(graph, entries: groupedTranspose, file: "w.npz") }
                == "m.convnet:3:1: ConvTranspose2d 't': w.npz: key 't.weight' has shape [2, 3, 2, 2, 2], but the layer needs [6, 2, 2, 2]")
    }

    @Test func bindingErrorTexts() throws {
        let parsed = try ConvnetParser.parse(Self.grouped, file: "m.convnet")
        let graph = try ShapeInference.run(parsed.graph).graph
        let good = WeightBinding.initialize(graph, seed: 1)
        func entries(without: String? = nil, adding extra: [(String, Tensor)] = [], replacing: (String, Tensor)? = nil)
            -> [(name: String, tensor: Tensor)] {
            var list = good.keys.sorted().filter { $0 != without }.compactMap { key in good[key].map { (name: key, tensor: $0) } }
            if let replacing { list = list.map { $0.name == replacing.0 ? (replacing.0, replacing.1) : $0 } }
            return list + extra.map { (name: $0.0, tensor: $0.1) }
        }
        let cases: [([(name: String, tensor: Tensor)], String)] = [
            (entries(without: "c.bias"), "m.convnet:2:1: Conv2d 'c': w.npz: missing key 'c.bias' (expected shape [6])"),
            (entries(without: "t.weight"), "m.convnet:3:1: ConvTranspose2d 't': w.npz: missing key 't.weight' (expected shape [6, 2, 2, 2])"),
            (entries(adding: [("d.weight", Tensor(zeros: [1]))]), "w.npz: unexpected key 'd.weight': no layer of the model uses it"),
            (entries(replacing: ("c.weight", Tensor(zeros: [6, 4, 3, 3]))),
             "m.convnet:2:1: Conv2d 'c': w.npz: key 'c.weight' has shape [6, 4, 3, 3], but the layer needs [6, 2, 3, 3]"),
            (entries(replacing: ("c.bias", Tensor(zeros: [1, 6, 1]))),
             "m.convnet:2:1: Conv2d 'c': w.npz: key 'c.bias' has shape [1, 6, 1], but the layer needs [6]"),
        ]
        for (list, message) in cases {
            #expect(errorText { try WeightBinding.bind(graph, entries: list, file: "w.npz") } == message)
        }
        // The same checks on a graph that carries its weights (as read from a .pb).
        var loaded = graph
        loaded.weights = good
        #expect(errorText { try WeightBinding.validate(loaded, file: "m.pb") } == nil)
        loaded.weights["c.bias"] = nil
        #expect(errorText { try WeightBinding.validate(loaded, file: "m.pb") } == "m.convnet:2:1: Conv2d 'c': m.pb: missing weight 'c.bias'")
        loaded.weights["c.bias"] = Tensor(zeros: [5])
        #expect(errorText { try WeightBinding.validate(loaded, file: "m.pb") }
                == "m.convnet:2:1: Conv2d 'c': m.pb: weight 'c.bias' has shape [5], but the layer needs [6]")
        loaded.weights["c.bias"] = good["c.bias"]
        loaded.weights["zz.weight"] = Tensor(zeros: [1])
        #expect(errorText { try WeightBinding.validate(loaded, file: "m.pb") } == "m.pb: unexpected weight 'zz.weight': no layer of the model uses it")
    }
}
