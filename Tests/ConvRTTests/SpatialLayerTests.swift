import Foundation
import Testing
@testable import ConvRT

/// One ONNX-only configuration with the ONNX reference evaluator's output
/// (Tools/gen_onnx_spatial_fixtures.py).
struct ONNXSpatialCase: Decodable, CustomTestStringConvertible, Sendable {
    struct Attributes: Decodable, Sendable {
        var kind: String?
        var kernel: [Int]?
        var stride: [Int]?
        var pad_begin: [Int]?
        var pad_end: [Int]?
        var dilation: [Int]?
        var ceil_mode: Bool?
        var count_include_pad: Bool?
        var mode: String?
        var begin: [Int]?
        var end: [Int]?
        var value: Double?
        var coordinate_transform: String?
        var nearest_rounding: String?
        var scales: [Double]?
        var sizes: [Int]?
    }

    var name: String
    var op: String
    var attributes: Attributes
    var input_shape: [Int]
    var input: [Float]
    var output_shape: [Int]
    var output: [Float]
    var testDescription: String { name }

    static func all() -> [ONNXSpatialCase] {
        guard let data = try? Data(contentsOf: fixturesURL.appendingPathComponent("onnx_spatial.json")) else { return [] }
        return (try? JSONDecoder().decode([ONNXSpatialCase].self, from: data)) ?? []
    }

    /// The IR op, spelled as an ONNX importer would build it.
    var irOp: Op {
        let a = attributes
        switch op {
        case "pool":
            let k = a.kernel ?? []
            return .pool(PoolAttributes(kind: a.kind == "max" ? .max : .average, spatialRank: k.count, kernelSize: k,
                                        stride: a.stride, padBegin: a.pad_begin, padEnd: a.pad_end, dilation: a.dilation,
                                        ceilMode: a.ceil_mode ?? false, countIncludePad: a.count_include_pad ?? false))
        case "pad":
            return .pad(PadAttributes(mode: PadAttributes.Mode(rawValue: a.mode ?? "") ?? .constant, begin: a.begin ?? [],
                                      end: a.end ?? [], value: Float(a.value ?? 0)))
        default:
            let transforms: [String: ResizeAttributes.CoordinateTransform] = [
                "half_pixel": .halfPixel, "pytorch_half_pixel": .pytorchHalfPixel,
                "align_corners": .alignCorners, "asymmetric": .asymmetric]
            let roundings: [String: ResizeAttributes.NearestRounding] = [
                "floor": .floor, "ceil": .ceil, "round_prefer_floor": .roundPreferFloor, "round_prefer_ceil": .roundPreferCeil]
            return .resize(ResizeAttributes(
                mode: a.mode == "linear" ? .linear : .nearest,
                coordinateTransform: transforms[a.coordinate_transform ?? ""] ?? .halfPixel,
                nearestRounding: roundings[a.nearest_rounding ?? ""] ?? .floor, scales: a.scales, sizes: a.sizes))
        }
    }
}

/// A one-node graph `y = op(x)`.
func singleLayerGraph(_ op: Op, input shape: [Int]) -> Graph {
    Graph(inputs: [GraphInput(name: "x", shape: shape.dims)], nodes: [Node(name: "y", op: op, inputs: ["x"])], outputs: ["y"])
}

/// Runs `graph` with the reference executor and the planned one (1 and 3 threads); returns all three.
func runAllExecutors(_ graph: Graph, _ x: Tensor) throws -> [(String, Tensor)] {
    var results = [("reference", try #require(try ReferenceExecutor.run(graph, inputs: ["x": x])["y"]))]
    for threads in [1, 3] {
        let model = CompiledModel(graph: graph, options: PlanOptions(verify: true, threads: threads))
        results.append(("planned, \(threads) threads", try #require(try model.run(["x": x])["y"])))
    }
    return results
}

@Suite struct SpatialLayerTests {
    static let onnxCases = ONNXSpatialCase.all()

    @Test func onnxFixturesArePresent() {
        #expect(Self.onnxCases.count > 60)
    }

    /// Asymmetric pooling pads, every Resize coordinate transform and nearest rounding, and Pad's
    /// modes on asymmetric amounts, against the ONNX reference evaluator.
    @Test(arguments: onnxCases)
    func matchesONNXReference(_ c: ONNXSpatialCase) throws {
        let graph = singleLayerGraph(c.irOp, input: c.input_shape)
        let expected = Tensor(shape: c.output_shape, data: c.output)
        for (label, actual) in try runAllExecutors(graph, Tensor(shape: c.input_shape, data: c.input)) {
            expectClose(actual, expected, "\(c.name) [\(label)]", tolerance: 1e-5)
        }
        let reloaded = try ModelFile.decode(ModelFile.encode(graph), file: "\(c.name).pb")
        #expect(reloaded == graph)
    }

    /// Planned kernels against the reference over random configurations hitting every edge
    /// (ceil mode, padding, dilation, crops, every resize mapping); 1 and 3 threads bit-identical.
    @Test func plannedMatchesReferenceOnRandomConfigs() throws {
        var rng = SplitMix64(seed: 5)
        var checked = 0
        for trial in 0..<240 {
            guard let (op, shape) = Self.randomLayer(&rng, trial) else { continue }
            let graph = singleLayerGraph(op, input: shape)
            guard (try? ShapeInference.run(graph)) != nil else { continue }
            let x = Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in 4 * rng.nextUnitFloat() - 2 })
            let results = try runAllExecutors(graph, x)
            for (label, actual) in results.dropFirst() {
                expectSameValues(actual, results[0].1, "\(op.displayName) \(op) on \(shape) [\(label)]")
            }
            #expect(results[1].1 == results[2].1, "thread count changed the result of \(op)")
            checked += 1
        }
        #expect(checked > 150)
    }

    /// Like `expectClose`, but equal values (a window entirely in the padding gives -inf) match exactly.
    func expectSameValues(_ actual: Tensor, _ expected: Tensor, _ what: String) {
        #expect(actual.shape == expected.shape, "\(what): shape")
        guard actual.shape == expected.shape else { return }
        let scale = max(1, expected.data.filter(\.isFinite).map(abs).max() ?? 0)
        let bad = zip(actual.data, expected.data).first { a, e in a != e && !(abs(a - e) <= 1e-4 * scale) }
        #expect(bad == nil, "\(what): \(bad.map { "\($0.0) vs \($0.1)" } ?? "")")
    }

    static func randomLayer(_ rng: inout SplitMix64, _ trial: Int) -> (Op, [Int])? {
        func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(rng.next() % UInt64(range.count)) }
        let rank = int(1...3)
        let shape = [int(1...2), int(1...3)] + (0..<rank).map { _ in int(1...9) }
        switch trial % 4 {
        case 0:
            let isMax = int(0...1) == 0
            let k = (0..<rank).map { _ in int(1...4) }
            let padBegin = k.map { int(0...($0 / 2)) }, padEnd = k.map { int(0...($0 / 2)) }
            return (.pool(PoolAttributes(
                kind: isMax ? .max : .average, spatialRank: rank, kernelSize: k, stride: (0..<rank).map { _ in int(1...3) },
                padBegin: padBegin, padEnd: int(0...1) == 0 ? padBegin : padEnd,
                dilation: isMax ? (0..<rank).map { _ in int(1...2) } : nil, ceilMode: int(0...1) == 0,
                countIncludePad: int(0...1) == 0, divisorOverride: int(0...3) == 0 ? int(1...5) : nil)), shape)
        case 1:
            let out = (0..<rank).map { _ in int(0...4) == 0 ? nil : int(1...7) } as [Int?]
            return (.adaptivePool(AdaptivePoolAttributes(kind: int(0...1) == 0 ? .max : .average, spatialRank: rank,
                                                         outputSize: out)), shape)
        case 2:
            let mode = PadAttributes.Mode.allCases[int(0...3)]
            let begin = (0..<rank).map { _ in int(-1...3) }, end = (0..<rank).map { _ in int(-1...3) }
            return (.pad(PadAttributes(mode: mode, begin: begin, end: end, value: 0.25)), shape)
        default:
            let transforms: [ResizeAttributes.CoordinateTransform] = [.halfPixel, .pytorchHalfPixel, .alignCorners, .asymmetric]
            let roundings: [ResizeAttributes.NearestRounding] = [.floor, .ceil, .roundPreferFloor, .roundPreferCeil]
            let useScales = int(0...1) == 0
            return (.resize(ResizeAttributes(
                mode: int(0...1) == 0 ? .nearest : .linear, coordinateTransform: transforms[int(0...3)],
                nearestRounding: roundings[int(0...3)],
                scales: useScales ? (0..<rank).map { _ in Double(int(3...25)) / 8 } : nil,
                sizes: useScales ? nil : (0..<rank).map { _ in int(1...11) })), shape)
        }
    }

    /// The portable and AVX2 builds of the pooling row kernels agree bit for bit (NaNs included),
    /// and with the reference.
    @Test func poolingISAPathsAgree() throws {
        var rng = SplitMix64(seed: 11)
        func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(rng.next() % UInt64(range.count)) }
        for trial in 0..<60 {
            let rank = int(1...3)
            let shape = [1, 2] + (0..<rank).map { _ in int(1...19) }
            let k = (0..<rank).map { _ in int(1...5) }
            let a = PoolAttributes(kind: trial % 2 == 0 ? .max : .average, spatialRank: rank, kernelSize: k,
                                   stride: (0..<rank).map { _ in int(1...3) }, padBegin: k.map { int(0...($0 / 2)) },
                                   dilation: trial % 2 == 0 ? (0..<rank).map { _ in int(1...2) } : nil, ceilMode: trial % 3 == 0)
            guard let outShape = (try? PoolShapeFunction(attributes: a, input: shape.dims).infer())?.concrete,
                  !outShape.contains(0) else { continue }
            let x = (0..<shape.reduce(1, *)).map { _ in rng.next() % 23 == 0 ? Float.nan : 4 * rng.nextUnitFloat() - 2 }
            var results: [[Float]] = []
            for isa in SGEMM.ISA.supported {
                var y = [Float](repeating: 0, count: outShape.reduce(1, *))
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { yp in
                        SpatialPooling.pool(a, xp.baseAddress!, inShape: shape, out: yp.baseAddress!, outShape: outShape,
                                            threads: 1, isa: isa)
                    }
                }
                results.append(y)
            }
            let reference = ReferenceKernels.pool(Tensor(shape: shape, data: x), a, outputShape: outShape).data
            for y in results {
                #expect(y.map(\.bitPattern) == results[0].map(\.bitPattern), "\(a)")
                let bad = zip(y, reference).first { p, r in p.isNaN != r.isNaN || (!p.isNaN && p != r && abs(p - r) > 1e-5 * max(1, abs(r))) }
                #expect(bad == nil, "\(a) on \(shape)")
            }
        }
    }

    /// NaN wins in max pooling (ATen's `val > max || isnan(val)`), in every executor.
    @Test func maxPoolingPropagatesNaN() throws {
        let x = Tensor(shape: [1, 1, 6], data: [1, .nan, 3, 0, 2, 5])
        let pools: [Op] = [
            .pool(PoolAttributes(kind: .max, spatialRank: 1, kernelSize: [2])),
            .adaptivePool(AdaptivePoolAttributes(kind: .max, spatialRank: 1, outputSize: [3])),
            .adaptivePool(AdaptivePoolAttributes(kind: .max, spatialRank: 1, outputSize: [1])),
        ]
        for op in pools {
            for (label, y) in try runAllExecutors(singleLayerGraph(op, input: x.shape), x) {
                #expect(y.data[0].isNaN, "\(op.displayName) [\(label)]")
                if y.count > 1 { #expect(y.data[1] == 3 && y.data[2] == 5, "\(op.displayName) [\(label)]") }
            }
        }
    }

    /// AdaptiveAvgPool with an all-ones output is PyTorch's `mean`: an empty plane gives NaN.
    @Test func globalAveragePoolOfEmptyPlaneIsNaN() throws {
        let op = Op.adaptivePool(AdaptivePoolAttributes(kind: .average, spatialRank: 2, outputSize: [1, 1]))
        for (label, y) in try runAllExecutors(singleLayerGraph(op, input: [1, 2, 0, 3]), Tensor(zeros: [1, 2, 0, 3])) {
            #expect(y.shape == [1, 2, 1, 1] && y.data.allSatisfy(\.isNaN), "\(label)")
        }
    }

    /// PyTorch's nearest keeps its shortcuts: same size copies, double size halves the index,
    /// even when a scale factor says otherwise (1.2 on 3 -> 3, 2.2 on 4 -> 8).
    @Test func nearestShortcutsFollowATen() {
        let a = ResizeAttributes(mode: .nearest, coordinateTransform: .asymmetric, scales: [1.2])
        #expect(ResizeGeometry.nearestIndices(a, dim: 0, inSize: 3, outSize: 3) == [0, 1, 2])
        let b = ResizeAttributes(mode: .nearest, coordinateTransform: .asymmetric, scales: [2.2])
        #expect(ResizeGeometry.nearestIndices(b, dim: 0, inSize: 4, outSize: 8) == [0, 0, 1, 1, 2, 2, 3, 3])
    }

    @Test func padSourceIndices() {
        func map(_ mode: PadAttributes.Mode, _ n: Int, _ b: Int, _ e: Int) -> [Int] {
            (0..<(n + b + e)).map { PadShapeFunction.sourceIndex($0, size: n, begin: b, end: e, mode: mode) }
        }
        #expect(map(.reflect, 4, 3, 3) == [3, 2, 1, 0, 1, 2, 3, 2, 1, 0])
        #expect(map(.replicate, 3, 2, 1) == [0, 0, 0, 1, 2, 2])
        #expect(map(.circular, 3, 3, 2) == [0, 1, 2, 0, 1, 2, 0, 1])
        #expect(map(.constant, 3, -1, 2) == [1, 2, -1, -1])
        // Circular crops first, then wraps the cropped part (PyTorch: [1, 2, 3, 1, 2, 3] for (-1, 3) on 0...3).
        #expect(map(.circular, 4, -1, 3) == [1, 2, 3, 1, 2, 3])
        #expect(map(.reflect, 4, -1, 3) == [1, 2, 3, 2, 1, 0])
    }

    // MARK: - DSL

    /// Each case: the layer call, the text the error points at, and the message.
    @Test(arguments: [
        ("MaxPool2d(x, kernel_size=(2, 2, 2))", "(2, 2, 2)", "max_pool2d: kernel_size must either be a single int, or a tuple of two ints"),
        ("AvgPool3d(x, kernel_size=2, stride=(1, 1))", "(1, 1)", "avg_pool3d: stride must be omitted, a single int, or a tuple of three ints"),
        ("MaxPool1d(x, kernel_size=2, return_indices=True)", "True", "return_indices=True is not supported: a layer has one output"),
        ("AvgPool1d(x, kernel_size=2, divisor_override=2)", "divisor_override", "unknown argument 'divisor_override' for AvgPool1d"),
        ("AdaptiveAvgPool2d(x, output_size=(2, 2, 2))", "(2, 2, 2)", "adaptive_avg_pool2d: output_size must be 2"),
        ("AdaptiveMaxPool1d(x)", "AdaptiveMaxPool1d", "missing required argument 'output_size'"),
        ("ConstantPad2d(x, padding=1)", "ConstantPad2d", "missing required argument 'value'"),
        ("ReflectionPad2d(x, padding=(1, 2, 3))", "(1, 2, 3)", "Padding length must be divisible by 2"),
        ("Upsample(x, scale_factor=2, mode=\"bicubic\")", "\"bicubic\"", "mode must be one of 'nearest', 'nearest-exact', 'linear', 'bilinear', 'trilinear', but got mode='bicubic'"),
        ("Upsample(x, scale_factor=2, recompute_scale_factor=True)", "True", "recompute_scale_factor=True is not supported: the coordinate mapping would depend on the input size"),
        ("Upsample(x, size=(4, 4, 4), mode=\"bilinear\")", "(4, 4, 4)", "Input and output must have the same number of spatial dimensions: bilinear mode needs 2 values, but got size=(4, 4, 4)"),
        ("Upsample(x, scale_factor=\"2\")", "\"2\"", "scale_factor must be a number, a tuple of numbers or None, got string '2'"),
        ("Upsample(x, scale_factor=2, mode=\"nearest\", align_corners=False)", "False", "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear"),
    ])
    func dslErrorsPointAtTheArgument(_ call: String, _ marker: String, _ message: String) throws {
        let text = "input x: [1, 2, 8, 8]\n# layer\ny = \(call)\noutput y\n"
        let range = try #require(call.range(of: marker))
        let column = 5 + call.distance(from: call.startIndex, to: range.lowerBound)
        let op = call.prefix { $0 != "(" }
        let error = compileError(text) ?? "no error"
        #expect(error.hasPrefix("model.convnet:3:\(column): \(op) 'y': \(message)"), "got \(error)")
    }

    @Test func dslBuildsTheIR() throws {
        let text = """
        input x: [1, 2, 8, 8]
        a = MaxPool2d(x, kernel_size=(3,), stride=2, padding=1, ceil_mode=True)
        b = AvgPool2d(a, 2, count_include_pad=False, divisor_override=None)
        """
        #expect(compileError(text + "\noutput b\n")?.contains("layer parameters are passed by keyword") == true)
        let model = try ConvnetParser.parse("""
        input x: [1, 2, 8, 8]
        a = MaxPool2d(x, kernel_size=(3,), stride=2, padding=1, ceil_mode=True)
        p = ZeroPad2d(a, padding=(1, 2, 3, 4))
        u = Upsample(p, scale_factor=2)
        v = Upsample(u, size=(5, 6), mode="bilinear", align_corners=True)
        g = AdaptiveAvgPool2d(v, output_size=(None, 1))
        output g
        """, file: "m.convnet")
        let compiled = try ModelCompiler.compile(model, baseDirectory: URL(fileURLWithPath: "/"))
        let ops = compiled.graph.nodes.map(\.op)
        #expect(ops[0] == .pool(PoolAttributes(kind: .max, spatialRank: 2, kernelSize: [3, 3], stride: [2, 2],
                                               padBegin: [1, 1], padEnd: [1, 1], ceilMode: true)))
        #expect(ops[1] == .pad(PadAttributes(mode: .constant, begin: [3, 1], end: [4, 2])))
        // Shape inference has repeated nearest's single scale per spatial dim.
        #expect(ops[2] == .resize(ResizeAttributes(mode: .nearest, coordinateTransform: .asymmetric, scales: [2, 2])))
        #expect(ops[3] == .resize(ResizeAttributes(mode: .linear, coordinateTransform: .alignCorners, sizes: [5, 6])))
        let inferred = try ShapeInference.run(compiled.graph)
        #expect(inferred.shape(of: "g") == [1, 2, 5, 1].dims)
        #expect(inferred.shape(of: "u") == [1, 2, 24, 16].dims)
    }

    // MARK: - Summary

    @Test func inspectShowsAttributesAndFLOPs() throws {
        let model = try ConvnetParser.parse("""
        input x: [1, 4, 16, 16]
        pool = MaxPool2d(x, kernel_size=3, stride=2, padding=1)
        avg = AvgPool2d(pool, kernel_size=2, ceil_mode=True, count_include_pad=False, divisor_override=3)
        pad = ReflectionPad2d(avg, padding=(1, 0, 2, 3))
        up = Upsample(pad, scale_factor=2, mode="bilinear", align_corners=True)
        gap = AdaptiveAvgPool2d(up, output_size=1)
        output gap
        """, file: "m.convnet")
        let compiled = try ModelCompiler.compile(model, baseDirectory: URL(fileURLWithPath: "/"))
        let summary = ModelSummary(try ShapeInference.run(compiled.graph))
        let rows = Dictionary(uniqueKeysWithValues: summary.nodes.map { ($0.name, $0) })
        #expect(rows["pool"]?.attributes == "k=3 s=2 p=1")
        #expect(rows["pool"]?.flops == 4 * 8 * 8 * 9)
        #expect(rows["avg"]?.attributes == "k=2 s=2 ceil count_include_pad=false divisor=3")
        #expect(rows["pad"]?.attributes == "mode=reflect pad=(1, 0, 2, 3)")
        #expect(rows["pad"]?.flops == 0)
        #expect(rows["up"]?.attributes == "mode=bilinear scale=2.0 align_corners")
        #expect(rows["up"]?.flops == 2 * 4 * 18 * 10 * 4)
        #expect(rows["gap"]?.attributes == "out=1")
        #expect(rows["gap"]?.flops == 4 * 18 * 10)
        #expect(summary.totalFLOPs != nil)
    }

    /// Symbolic dims flow through (rendered as expressions) and resolve when bound.
    @Test func symbolicShapes() throws {
        let graph = Graph(inputs: [GraphInput(name: "x", shape: [.symbol("N"), .known(3), .symbol("H"), .known(9)])], nodes: [
            Node(name: "p", op: .pool(PoolAttributes(kind: .max, spatialRank: 2, kernelSize: [3, 3], stride: [2, 2],
                                                      padBegin: [1, 1])), inputs: ["x"]),
            Node(name: "g", op: .adaptivePool(AdaptivePoolAttributes(kind: .average, spatialRank: 2, outputSize: [nil, 2])), inputs: ["p"]),
        ], outputs: ["g"])
        let inferred = try ShapeInference.run(graph)
        #expect(inferred.shape(of: "p") == [.symbol("N"), .known(3), .symbol("(H-1)/2+1"), .known(5)])
        #expect(inferred.shape(of: "g")[3] == .known(2))
        let bound = try ShapeInference.run(graph, inputShapes: ["x": [2, 3, 10, 9].dims])
        #expect(bound.shape(of: "g") == [2, 3, 5, 2].dims)
    }
}
