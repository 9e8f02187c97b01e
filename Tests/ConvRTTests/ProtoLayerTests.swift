import Foundation
import Testing
@testable import ConvRT

/// The `.pb` messages of the non-convolution layers: every attribute survives a round trip,
/// and malformed messages are rejected by the decoder.
@Suite struct ProtoLayerTests {
    static let ops: [Op] = [
        .pool(PoolAttributes(kind: .max, spatialRank: 2, kernelSize: [3, 3], stride: [2, 2], padBegin: [1, 0],
                             padEnd: [0, 1], dilation: [1, 2], ceilMode: true)),
        .pool(PoolAttributes(kind: .average, spatialRank: 1, kernelSize: [4], countIncludePad: false, divisorOverride: 3)),
        .pool(PoolAttributes(kind: .average, spatialRank: 3, kernelSize: [2, 2, 2])),
        .adaptivePool(AdaptivePoolAttributes(kind: .average, spatialRank: 2, outputSize: [1, nil])),
        .adaptivePool(AdaptivePoolAttributes(kind: .max, spatialRank: 3, outputSize: [2, 3, 4])),
        .linear(LinearAttributes(inFeatures: 512, outFeatures: 10)),
        .linear(LinearAttributes(isLazy: true, inFeatures: nil, outFeatures: 7, hasBias: false)),
        .concat(axis: -3), .flatten(startDim: 1, endDim: -1),
        .reshape(ReshapeAttributes(shape: [0, -1, 4])), .reshape(ReshapeAttributes(shape: [0, 3], allowZero: true)),
        .transpose(permutation: [0, 2, 3, 1]), .squeeze(axes: [2, 3]), .squeeze(axes: []), .unsqueeze(axes: [-1]),
        .slice(SliceAttributes(starts: [1, -5], ends: [Int(Int32.max), 3], axes: [1, 3], steps: [2, -1])),
        .gather(GatherAttributes(axis: 1, indices: [0, 2, -1], indicesShape: [3])),
        .gather(GatherAttributes(axis: 0, indices: [1], indicesShape: [])),
        .pad(PadAttributes(mode: .constant, begin: [1, 2], end: [3, -1], value: -0.5)),
        .pad(PadAttributes(mode: .reflect, begin: [1], end: [2])),
        .pad(PadAttributes(mode: .replicate, begin: [1, 1, 1], end: [0, 0, 0])),
        .pad(PadAttributes(mode: .circular, begin: [2, 2], end: [2, 2])),
        .resize(ResizeAttributes(mode: .nearest, coordinateTransform: .asymmetric, scales: [2, 2])),
        .resize(ResizeAttributes(mode: .linear, coordinateTransform: .alignCorners, sizes: [7, 9, 11])),
        .resize(ResizeAttributes(mode: .nearest, coordinateTransform: .halfPixel, nearestRounding: .roundPreferCeil, scales: [1.5])),
        .resize(ResizeAttributes(mode: .linear, coordinateTransform: .pytorchHalfPixel, nearestRounding: .roundPreferFloor, scales: [0.5, 3])),
        .softmax(axis: 1, log: false), .softmax(axis: -1, log: true),
        .reduceMean(axes: [2, 3], keepDims: true), .reduceMean(axes: [-1], keepDims: false),
    ] + BinaryOperator.allCases.map { .binary($0) } + [.matmul, .concat(axis: 1)]

    static func graph(_ op: Op) -> Graph {
        let operands = op.operandCount.lowerBound == 2 || op == .concat(axis: 1) ? ["x", "y"] : ["x"]
        return Graph(inputs: [GraphInput(name: "x", shape: [.symbol("N"), .known(3)]), GraphInput(name: "y", shape: [.known(2)])],
                     nodes: [Node(name: "n", op: op, inputs: operands, location: SourceLocation(file: "m.convnet", line: 4, column: 2))],
                     outputs: ["n"])
    }

    @Test(arguments: ops)
    func layerRoundTrips(_ op: Op) throws {
        let g = Self.graph(op)
        let bytes = try ModelFile.encode(g)
        #expect(try ModelFile.decode(bytes, file: "m.pb") == g)
        #expect(try ModelFile.encode(ModelFile.decode(bytes, file: "m.pb")) == bytes)
    }

    @Test func constantRoundTripsWithItsValue() throws {
        let g = Graph(inputs: [GraphInput(name: "x", shape: [.known(1)])],
                      nodes: [Node(name: "c", op: .constant(shape: [2, 1]), inputs: [])], outputs: ["c"],
                      weights: ["c.value": Tensor(shape: [2, 1], data: [1.5, -2])])
        let decoded = try ModelFile.decode(try ModelFile.encode(g), file: "m.pb")
        #expect(decoded == g)
        #expect(decoded.weights["c.value"]?.data == [1.5, -2])
    }

    @Test func malformedLayerMessagesAreRejected() throws {
        func expectRejected(_ edit: (inout PBNode) -> Void, _ message: String) throws {
            var model = try PBModel(serializedBytes: ModelFile.encode(Self.graph(.pool(PoolAttributes(kind: .max, spatialRank: 2, kernelSize: [2, 2])))))
            edit(&model.nodes[0])
            #expect {
                _ = try ModelFile.decode(try model.serializedBytes(), file: "m.pb")
            } throws: { ($0 as? ConvRTError)?.description.contains(message) == true }
        }
        try expectRejected({ $0.op = .pool(.with { $0.spatialRank = 4 }) }, "spatial_rank 4 is not 1, 2 or 3")
        try expectRejected({ $0.op = .pool(.with { $0.spatialRank = 2; $0.kernelSize = [2] }) }, "kernel_size has 1 value, expected 2")
        try expectRejected({ $0.op = .resize(.with { $0.scales = [2]; $0.sizes = [3] }) }, "exactly one of scales and sizes")
        try expectRejected({ $0.op = .pad(.with { $0.begin = [1, 2]; $0.end = [1] }) }, "end has 1 value, expected 2")
        try expectRejected({ $0.op = .binary(.with { $0.operator = .UNRECOGNIZED(9) }) }, "unknown binary operator 9")
        try expectRejected({ $0.op = .linear(.with { $0.outFeatures = 3 }) }, "in_features is missing")
    }

    @Test func shapeInferenceRejectsLayersNotImplementedYet() throws {
        let g = Self.graph(.resize(ResizeAttributes(mode: .nearest, coordinateTransform: .asymmetric, scales: [2])))
        #expect(throws: ConvRTError.self) { _ = try ShapeInference.run(g) }
    }
}
