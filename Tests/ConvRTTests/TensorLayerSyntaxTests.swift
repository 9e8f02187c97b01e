import Testing
@testable import ConvRT

/// The DSL forms of the dense and tensor layers: what they lower to, and their argument errors.
@Suite struct TensorLayerSyntaxTests {
    private func ops(_ body: String, input: String = "[2, 3, 4]") throws -> [Op] {
        try ConvnetParser.parse("input x: \(input)\ninput z: \(input)\n\(body)\noutput l", file: "m.convnet").graph.nodes.map(\.op)
    }

    @Test func layersLowerToTheirOps() throws {
        #expect(try ops("l = Linear(x, in_features=4, out_features=2)") == [.linear(LinearAttributes(inFeatures: 4, outFeatures: 2))])
        #expect(try ops("l = LazyLinear(x, out_features=2, bias=False)")
                == [.linear(LinearAttributes(isLazy: true, inFeatures: nil, outFeatures: 2, hasBias: false))])
        #expect(try ops("l = Flatten(x)") == [.flatten(startDim: 1, endDim: -1)])
        #expect(try ops("l = Flatten(x, start_dim=0, end_dim=1)") == [.flatten(startDim: 0, endDim: 1)])
        #expect(try ops("l = Concat(x, z, x)") == [.concat(axis: 0)])
        #expect(try ops("l = Concat(x, dim=-1)") == [.concat(axis: -1)])
        #expect(try ops("l = Softmax(x, dim=1)") == [.softmax(axis: 1, log: false)])
        #expect(try ops("l = LogSoftmax(x, dim=-1)") == [.softmax(axis: -1, log: true)])
        #expect(try ops("l = Dropout(x)") == [.identity])
        #expect(try ops("l = Dropout2d(x, p=0.0, inplace=True)") == [.identity])
        #expect(try ops("l = Sub(x, z)") == [.binary(.sub)])
        #expect(try ops("l = Mul(x, z)") == [.binary(.mul)])
        #expect(try ops("l = Div(x, z)") == [.binary(.div)])
        #expect(try ops("l = Hardsigmoid(x, inplace=True)") == [.activation(.hardSigmoid(alpha: 1.0 / 6, beta: 0.5))])
        let concat = try ConvnetParser.parse("input x: [1]\ninput z: [1]\nl = Concat(x, z, x, dim=0)\noutput l", file: "m.convnet")
        #expect(concat.graph.nodes[0].inputs == ["x", "z", "x"])
    }

    static let errorCases: [(String, String)] = [
        ("l = Concat(dim=1)", "m.convnet:3:5: Concat 'l': Concat takes at least 1 input, got 0"),
        ("l = Concat(x, z, 1)", "m.convnet:3:18: Concat 'l': unexpected positional argument 1; layer parameters are passed by keyword, e.g. dim=1"),
        ("l = Concat(x, y)", "m.convnet:3:15: Concat 'l': undefined name 'y'"),
        ("l = Concat(x, dim=1.0)", "m.convnet:3:19: Concat 'l': dim must be an integer, got float 1.0"),
        ("l = Softmax(x)", "m.convnet:3:5: Softmax 'l': Softmax needs dim: PyTorch's implicit dim for dim=None is deprecated and not supported; give dim=1 (or the dim to normalise)"),
        ("l = LogSoftmax(x, dim=None)", "m.convnet:3:23: LogSoftmax 'l': LogSoftmax needs dim: PyTorch's implicit dim for dim=None is deprecated and not supported; give dim=1 (or the dim to normalise)"),
        ("l = Softmax(x, dim='1')", "m.convnet:3:20: Softmax 'l': dim must be an integer, got string '1'"),
        ("l = LazyLinear(x, in_features=3, out_features=2)", "m.convnet:3:19: LazyLinear 'l': LazyLinear infers in_features from its input; remove this argument"),
        ("l = Linear(x, out_features=2)", "m.convnet:3:5: Linear 'l': missing required argument 'in_features'"),
        ("l = Linear(x, in_features=4, out_features=2, bias=1)", "m.convnet:3:51: Linear 'l': bias must be true or false, got integer 1"),
        ("l = Dropout(x, p='a')", "m.convnet:3:18: Dropout 'l': p must be a number, got string 'a'"),
        ("l = Dropout3d(x, p=1.5)", "m.convnet:3:20: Dropout3d 'l': dropout probability has to be between 0 and 1, but got 1.5"),
        ("l = Mul(x)", "m.convnet:3:5: Mul 'l': Mul takes 2 inputs, got 1"),
        ("l = Flatten(x, start=1)", "m.convnet:3:16: Flatten 'l': unknown argument 'start' for Flatten; did you mean 'start_dim'?"),
        ("l = Hardsigmoid(x, alpha=0.2)", "m.convnet:3:20: Hardsigmoid 'l': unknown argument 'alpha' for Hardsigmoid; valid arguments are inplace"),
    ]

    @Test(arguments: errorCases)
    func renderedErrors(_ source: String, _ expected: String) {
        #expect(compileError("input x: [2, 3, 4]\ninput z: [2, 3, 4]\n\(source)\noutput l", file: "m.convnet") == expected)
    }
}
