import Foundation
import Testing
@testable import ConvRT

/// The `.convnet` front end: lexing, parsing, lowering to `Graph`, and exact error texts.
@Suite struct DSLParserTests {
    static let example = """
        # comment to end of line
        input x: [N, 3, 32, 32]          # dims are integers or names (symbolic, bound at run time)
        weights "tiny.npz"               # optional, path relative to this file

        stem = Conv2d(x, in_channels=3, out_channels=8, kernel_size=3, padding=1)
        body = LazyConv2d(stem, out_channels=8, kernel_size=(3, 3), padding="same", padding_mode="reflect")
        act  = ReLU(body)
        sum  = Add(act, stem)
        up   = ConvTranspose2d(sum, in_channels=8, out_channels=4, kernel_size=4, stride=2, padding=1)
        cols = Unfold(up, kernel_size=2, stride=2)
        img  = Fold(cols, output_size=(64, 64), kernel_size=2, stride=2)
        output img                       # one or more names: output a, b

        """

    // MARK: The example

    @Test func exampleGraph() throws {
        let model = try ConvnetParser.parse(Self.example, file: "tiny.convnet")
        #expect(model.weightsPath == "tiny.npz")
        #expect(model.weightsLocation == loc(3, 9, file: "tiny.convnet"))
        let graph = model.graph
        #expect(graph.inputs == [GraphInput(name: "x", shape: [.symbol("N"), .known(3), .known(32), .known(32)])])
        #expect(graph.outputs == ["img"])
        #expect(graph.weights.isEmpty)
        #expect(graph.nodes.map(\.name) == ["stem", "body", "act", "sum", "up", "cols", "img"])
        #expect(graph.nodes.map(\.inputs) == [["x"], ["stem"], ["body"], ["act", "stem"], ["sum"], ["up"], ["cols"]])
        #expect(graph.nodes.map(\.location) == (5...11).map { loc($0, 1, file: "tiny.convnet") })

        let stem = ConvAttributes(
            spatialRank: 2, inChannels: 3, outChannels: 8, kernelSize: [3, 3],
            stride: [1, 1], padding: .explicit([1, 1]), dilation: [1, 1], groups: 1, hasBias: true,
            paddingMode: .zeros, outputPadding: [0, 0], outputSize: nil)
        let body = ConvAttributes(
            spatialRank: 2, isLazy: true, inChannels: nil, outChannels: 8, kernelSize: [3, 3],
            padding: .same, paddingMode: .reflect)
        let up = ConvAttributes(
            spatialRank: 2, transposed: true, inChannels: 8, outChannels: 4, kernelSize: [4, 4],
            stride: [2, 2], padding: .explicit([1, 1]), outputPadding: [0, 0])
        let window = SlidingWindow(kernelSize: [2, 2], dilation: [1, 1], padding: [0, 0], stride: [2, 2])
        let ops: [Op] = [
            .conv(stem), .conv(body), .activation(.relu), .add, .conv(up), .unfold(window),
            .fold(FoldAttributes(outputSize: [64, 64], window: window)),
        ]
        #expect(graph.nodes.map(\.op) == ops)
        #expect(graph.nodes.map(\.label) == [
            "Conv2d 'stem'", "LazyConv2d 'body'", "ReLU 'act'", "Add 'sum'",
            "ConvTranspose2d 'up'", "Unfold 'cols'", "Fold 'img'",
        ])
    }

    @Test func parseContentsOfFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dsl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("tiny.convnet")
        try Data(Self.example.utf8).write(to: url)
        let model = try ConvnetParser.parse(contentsOf: url)
        #expect(model.graph.nodes.count == 7)
        #expect(model.weightsURL(relativeTo: url)?.path == dir.appendingPathComponent("tiny.npz").path)
        #expect(model.graph.nodes.first?.location?.file == url.relativePath)
    }

    @Test func unreadableFile() {
        let url = URL(fileURLWithPath: "/nonexistent/dir/m.convnet")
        #expect(throws: ConvRTError.self) { try ConvnetParser.parse(contentsOf: url) }
        do {
            _ = try ConvnetParser.parse(contentsOf: url)
        } catch let error as ConvRTError {
            #expect(error.message.hasPrefix("/nonexistent/dir/m.convnet: cannot read file: "))
            #expect(error.location == nil)
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }

    // MARK: Values and broadcasting

    @Test func intsBroadcastToSpatialRank() throws {
        let c1 = try conv("Conv1d(x, in_channels=3, out_channels=4, kernel_size=3, stride=2, dilation=2)", input: "[1, 3, 9]")
        #expect(c1.kernelSize == [3] && c1.stride == [2] && c1.dilation == [2] && c1.padding == .explicit([0]))
        let c3 = try conv("Conv3d(x, in_channels=3, out_channels=4, kernel_size=3, padding=1)", input: "[1, 3, 4, 4, 4]")
        #expect(c3.kernelSize == [3, 3, 3] && c3.padding == .explicit([1, 1, 1]) && c3.stride == [1, 1, 1])
        #expect(c3.outputPadding == [0, 0, 0] && c3.dilation == [1, 1, 1])
    }

    @Test func tuplesAndLists() throws {
        let c = try conv("Conv2d(x, in_channels=3, out_channels=4, kernel_size=(3, 5), stride=[1, 2], padding=(2,), dilation=(1))")
        #expect(c.kernelSize == [3, 5])
        #expect(c.stride == [1, 2])
        #expect(c.padding == .explicit([2, 2]))  // a 1-tuple repeats, as aten's expand_param_if_needed does
        #expect(c.dilation == [1, 1])  // (1) is just 1, as in Python
        let t = try conv("ConvTranspose3d(x, in_channels=3, out_channels=4, kernel_size=(1, 2, 3), output_padding=(0, 1, 0), dilation=2)", input: "[1, 3, 4, 4, 4]")
        #expect(t.kernelSize == [1, 2, 3] && t.outputPadding == [0, 1, 0] && t.dilation == [2, 2, 2] && t.transposed)
    }

    @Test func negativeAndZeroValuesAreKeptForShapeInference() throws {
        let c = try conv("Conv2d(x, in_channels=3, out_channels=4, kernel_size=0, padding=-1, stride=(0, -2), groups=0)")
        #expect(c.kernelSize == [0, 0] && c.padding == .explicit([-1, -1]) && c.stride == [0, -2] && c.groups == 0)
        let s = try conv("Conv2d(x, in_channels=3, out_channels=4, kernel_size=3, padding='same', stride=2)")
        #expect(s.padding == .same && s.stride == [2, 2])
    }

    @Test func stringsInBothQuoteStyles() throws {
        let a = try conv("Conv2d(x, in_channels=3, out_channels=4, kernel_size=3, padding='valid', padding_mode='circular')")
        #expect(a.padding == .valid && a.paddingMode == .circular)
        let b = try conv(#"Conv2d(x, in_channels=3, out_channels=4, kernel_size=3, padding="same", padding_mode="replicate")"#)
        #expect(b.padding == .same && b.paddingMode == .replicate)
        let model = try parse("input x: [1]\nweights 'dir/a#b \"c\".npz'\noutput x")
        #expect(model.weightsPath == #"dir/a#b "c".npz"#)
    }

    @Test(arguments: ["true", "True", "false", "False"])
    func booleans(_ word: String) throws {
        let c = try conv("Conv2d(x, in_channels=3, out_channels=4, kernel_size=3, bias=\(word))")
        #expect(c.hasBias == (word.lowercased() == "true"))
    }

    @Test func convTransposeOutputSize() throws {
        let base = "ConvTranspose2d(x, in_channels=3, out_channels=4, kernel_size=3, stride=2"
        #expect(try conv(base + ")").outputSize == nil)
        #expect(try conv(base + ", output_size=None)").outputSize == nil)
        #expect(try conv(base + ", output_size=none)").outputSize == nil)
        #expect(try conv(base + ", output_size=(15, 16))").outputSize == [15, 16])
        #expect(try conv(base + ", output_size=(1, 4, 15, 16))").outputSize == [1, 4, 15, 16])
        #expect(try conv(base + ", output_size=15)").outputSize == [15, 15])
    }

    @Test func lazyTransposeAndMegEngineConvMode() throws {
        let c = try conv("LazyConvTranspose1d(x, out_channels=2, kernel_size=3, groups=2, bias=false)", input: "[1, 4, 9]")
        #expect(c.isLazy && c.transposed && c.inChannels == nil && c.groups == 2 && !c.hasBias && c.spatialRank == 1)
        let m = try conv("Conv3d(x, in_channels=3, out_channels=4, kernel_size=3, conv_mode='cross_correlation')", input: "[1, 3, 4, 4, 4]")
        #expect(m.displayName == "Conv3d")
    }

    @Test func reluInplaceIsAcceptedAndIgnored() throws {
        let graph = try parse("input x: [1, 3]\nr = ReLU(x, inplace=True)\noutput r").graph
        #expect(graph.nodes.first?.op == .activation(.relu))
    }

    @Test func unfoldAndFoldWindows() throws {
        let graph = try parse("""
            input x: [1, 2, 6, 6]
            u = Unfold(x, kernel_size=(2, 3), dilation=2, padding=(1, 0), stride=1)
            f = Fold(u, output_size=6, kernel_size=(2, 3), dilation=2, padding=(1, 0))
            output f
            """).graph
        let window = SlidingWindow(kernelSize: [2, 3], dilation: [2, 2], padding: [1, 0], stride: [1, 1])
        #expect(graph.nodes.map(\.op) == [.unfold(window), .fold(FoldAttributes(outputSize: [6, 6], window: window))])
    }

    // MARK: Layout of the file

    @Test func commentsBlankLinesAndCRLF() throws {
        let text = "# header\r\n\r\n   # indented comment\r\ninput x: [1, 3, 4, 4] # trailing\r\n\t r = ReLU( x )   \r\noutput r# no space\r\n# end"
        let graph = try parse(text).graph
        #expect(graph.nodes.map(\.name) == ["r"])
        #expect(graph.nodes.first?.location == loc(5, 3))
        #expect(graph.outputs == ["r"])
    }

    @Test func namesWithDotsAndDigits() throws {
        let graph = try parse("""
            input images_0: [1, 3, 8, 8]
            layer1.0.conv1 = Conv2d(images_0, in_channels=3, out_channels=4, kernel_size=1)
            features.3 = ReLU(layer1.0.conv1)
            _x.y1.2b = Add(features.3, layer1.0.conv1)
            output _x.y1.2b
            """).graph
        #expect(graph.nodes.map(\.name) == ["layer1.0.conv1", "features.3", "_x.y1.2b"])
        #expect(graph.nodes.map(\.inputs) == [["images_0"], ["layer1.0.conv1"], ["features.3", "layer1.0.conv1"]])
    }

    @Test func multipleInputsAndOutputsAccumulate() throws {
        let graph = try parse("""
            input a: [N, 4, H, W]
            input b: [N, 4, H, W]
            s = Add(a, b)
            r = ReLU(s)
            output r, s
            output a
            """).graph
        #expect(graph.inputs.map(\.name) == ["a", "b"])
        #expect(graph.inputs[1].shape == [.symbol("N"), .known(4), .symbol("H"), .symbol("W")])
        #expect(graph.outputs == ["r", "s", "a"])
    }

    @Test func keywordsCanNameValues() throws {
        let graph = try parse("""
            input input: [1, 2]
            output = ReLU(input)
            weights = ReLU(output)
            output weights, output
            """).graph
        #expect(graph.inputs.map(\.name) == ["input"])
        #expect(graph.nodes.map(\.name) == ["output", "weights"])
        #expect(graph.outputs == ["weights", "output"])
    }

    @Test func dimsAndTrailingCommas() throws {
        let graph = try parse("input x: [0, batch_size, 7,]\ninput s: []\nr = ReLU(x,)\noutput r").graph
        #expect(graph.inputs[0].shape == [.known(0), .symbol("batch_size"), .known(7)])
        #expect(graph.inputs[1].shape == [])
    }

    // MARK: Suggestions

    @Test func closestMatchSuggestions() {
        let ops = LayerTable.specs.map(\.name)
        #expect(closestMatch("Conv2D", in: ops) == "Conv2d")
        #expect(closestMatch("relu", in: ops) == "ReLU")
        #expect(closestMatch("ConvTranpose2d", in: ops) == "ConvTranspose2d")
        #expect(closestMatch("LSTM", in: ops) == nil)
        #expect(closestMatch("MaxPool2D", in: ops) == "MaxPool2d")
        let keys = ["in_channels", "out_channels", "kernel_size", "stride", "padding", "padding_mode"]
        #expect(closestMatch("kernel", in: keys) == "kernel_size")
        #expect(closestMatch("strides", in: keys) == "stride")
        #expect(closestMatch("pad", in: keys) == "padding")
        #expect(closestMatch("bias", in: keys) == nil)
        #expect(closestMatch("y", in: ["x"]) == nil)
        #expect(closestMatch("", in: ["x"]) == nil)
        #expect(closestMatch("x", in: []) == nil)
        #expect(editDistance(Array("kitten"), Array("sitting")) == 3)
    }

    // MARK: Errors

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        let source: String
        let expected: String
        init(_ source: String, _ expected: String) {
            self.source = source
            self.expected = expected
        }
        var testDescription: String { expected }
    }

    /// `x` is declared on line 1, so the statement under test is on line 2.
    static let x = "input x: [1, 3, 8, 8]\n"
    static let conv = "c = Conv2d(x, in_channels=3, out_channels=8, kernel_size=3"

    static let errorCases: [ErrorCase] = [
        // Layer types and arguments
        .init(x + "c = Conv2D(x, in_channels=3, out_channels=8, kernel_size=3)\noutput c",
              "m.convnet:2:5: unknown layer 'Conv2D'; did you mean 'Conv2d'?"),
        .init(x + "c = Relu(x)", "m.convnet:2:5: unknown layer 'Relu'; did you mean 'ReLU'?"),
        .init(x + "c = LSTM(x)", "m.convnet:2:5: unknown layer 'LSTM'"),
        .init(x + "c = Conv2d(x, in_channels=3, out_channels=8, kernel=3)",
              "m.convnet:2:46: Conv2d 'c': unknown argument 'kernel' for Conv2d; did you mean 'kernel_size'?"),
        .init(x + "r = ReLU(x, alpha=0)", "m.convnet:2:13: ReLU 'r': unknown argument 'alpha' for ReLU; valid arguments are inplace"),
        .init(x + "a = Add(x, x, alpha=1)", "m.convnet:2:15: Add 'a': unknown argument 'alpha' for Add, which takes no arguments"),
        .init(x + "c = LazyConv2d(x, in_channels=3, out_channels=8, kernel_size=3)",
              "m.convnet:2:19: LazyConv2d 'c': LazyConv2d infers in_channels from its input; remove this argument"),
        .init(x + "c = Conv2d(x, x, in_channels=3, out_channels=8, kernel_size=3)",
              "m.convnet:2:15: Conv2d 'c': Conv2d takes 1 input, got 2"),
        .init(x + "a = Add(x)", "m.convnet:2:5: Add 'a': Add takes 2 inputs, got 1"),
        .init(x + "c = Conv2d(in_channels=3, out_channels=8, kernel_size=3)", "m.convnet:2:5: Conv2d 'c': Conv2d takes 1 input, got 0"),
        .init(x + "c = Conv2d(x, in_channels=3, kernel_size=3)", "m.convnet:2:5: Conv2d 'c': missing required argument 'out_channels'"),
        .init(x + "c = LazyConvTranspose3d(x, out_channels=8)",
              "m.convnet:2:5: LazyConvTranspose3d 'c': missing required argument 'kernel_size'"),
        .init(x + "f = Fold(x, kernel_size=2)", "m.convnet:2:5: Fold 'f': missing required argument 'output_size'"),
        .init(x + "c = ReLU(3)", "m.convnet:2:10: ReLU 'c': input 1 of ReLU must be a value name, got integer 3"),
        .init(x + "c = Conv2d(x, 3, 8, 3)",
              "m.convnet:2:15: Conv2d 'c': unexpected positional argument 3; layer parameters are passed by keyword, e.g. in_channels=3"),
        .init(x + "c = Conv2d(in_channels=3, x)", "m.convnet:2:27: Conv2d 'c': positional argument follows keyword argument"),
        .init(x + conv + ", padding=1, padding=2)", "m.convnet:2:72: Conv2d 'c': keyword argument repeated: 'padding'"),

        // Values
        .init(x + conv + ", padding=(1, 2, 3))",
              "m.convnet:2:69: Conv2d 'c': expected padding to be a single integer value or a list of 2 values to match the convolution dimensions, but got padding=[1, 2, 3]"),
        .init(x + "c = Conv3d(x, in_channels=3, out_channels=8, kernel_size=(3, 3))",
              "m.convnet:2:58: Conv3d 'c': expected kernel_size to be a single integer value or a list of 3 values to match the convolution dimensions, but got kernel_size=[3, 3]"),
        .init(x + "c = ConvTranspose1d(x, in_channels=3, out_channels=8, kernel_size=3, output_padding=())",
              "m.convnet:2:85: ConvTranspose1d 'c': expected output_padding to be a single integer value or a list of 1 values to match the convolution dimensions, but got output_padding=[]"),
        .init(x + "c = Conv2d(x, in_channels=3, out_channels=8, kernel_size='x')",
              "m.convnet:2:58: Conv2d 'c': kernel_size must be an integer or a tuple of integers, got string 'x'"),
        .init(x + conv + ", stride=(1, \"a\"))",
              "m.convnet:2:68: Conv2d 'c': stride must be an integer or a tuple of integers, got tuple (1, 'a')"),
        .init(x + "c = Conv2d(x, in_channels=\"3\", out_channels=8, kernel_size=3)",
              "m.convnet:2:27: Conv2d 'c': in_channels must be an integer, got string '3'"),
        .init(x + conv + ", groups=None)", "m.convnet:2:68: Conv2d 'c': groups must be an integer, got None"),
        .init(x + conv + ", bias=1)", "m.convnet:2:66: Conv2d 'c': bias must be true or false, got integer 1"),
        .init(x + conv + ", padding=\"full\")",
              "m.convnet:2:69: Conv2d 'c': Invalid padding string 'full', should be one of {'same', 'valid'}"),
        .init(x + conv + ", padding=same)",
              "m.convnet:2:69: Conv2d 'c': padding must be an integer, a tuple of integers, 'same' or 'valid', got name 'same' (strings need quotes)"),
        .init(x + conv + ", padding=true)",
              "m.convnet:2:69: Conv2d 'c': padding must be an integer, a tuple of integers, 'same' or 'valid', got boolean true"),
        .init(x + conv + ", padding_mode='constant')",
              "m.convnet:2:74: Conv2d 'c': padding_mode must be one of {'circular', 'reflect', 'replicate', 'zeros'}, but got padding_mode='constant'"),
        .init(x + conv + ", padding_mode=3)", "m.convnet:2:74: Conv2d 'c': padding_mode must be a string, got integer 3"),
        .init(x + "u = ConvTranspose2d(x, in_channels=3, out_channels=8, kernel_size=3, padding_mode=\"reflect\")",
              "m.convnet:2:83: ConvTranspose2d 'u': Only \"zeros\" padding mode is supported for ConvTranspose2d"),
        .init(x + "u = ConvTranspose2d(x, in_channels=3, out_channels=8, kernel_size=3, padding='same')",
              "m.convnet:2:78: ConvTranspose2d 'u': padding must be an integer or a tuple of integers, got string 'same'"),
        .init(x + "u = ConvTranspose2d(x, in_channels=3, out_channels=8, kernel_size=3, output_size='big')",
              "m.convnet:2:82: ConvTranspose2d 'u': output_size must be an integer, a tuple of integers or None, got string 'big'"),
        .init(x + conv + ", conv_mode=\"convolution\")",
              "m.convnet:2:71: Conv2d 'c': unsupported conv_mode 'convolution'; only 'cross_correlation' is supported"),
        .init(x + "u = Unfold(x, kernel_size=(2, 2, 2))", "m.convnet:2:27: Unfold 'u': It is expected kernel_size equals to 2, but got size 3"),
        .init(x + "f = Fold(x, output_size=(4,), kernel_size=2)", "m.convnet:2:25: Fold 'f': It is expected output_size equals to 2, but got size 1"),
        .init(x + "r = ReLU(x, inplace=1)", "m.convnet:2:21: ReLU 'r': inplace must be true or false, got integer 1"),

        // Names
        .init(x + "c = ReLU(y)\noutput c", "m.convnet:2:10: ReLU 'c': undefined name 'y'"),
        .init(x + "relu1 = ReLU(x)\nc = ReLU(relu2)", "m.convnet:3:10: ReLU 'c': undefined name 'relu2'; did you mean 'relu1'?"),
        .init(x + "y = ReLU(y)\noutput y", "m.convnet:2:10: ReLU 'y': undefined name 'y'"),
        .init(x + "output z", "m.convnet:2:8: undefined name 'z'"),
        .init("output x\ninput x: [1]", "m.convnet:1:8: undefined name 'x'"),
        .init(x + "x = ReLU(x)", "m.convnet:2:1: ReLU 'x': redefinition of 'x' (first defined at m.convnet:1:7)"),
        .init(x + "input x: [2]", "m.convnet:2:7: redefinition of 'x' (first defined at m.convnet:1:7)"),
        .init(x + "None = ReLU(x)", "m.convnet:2:1: ReLU 'None': 'None' is a reserved word and cannot name a value"),
        .init(x + "output x, x", "m.convnet:2:11: 'x' is already an output (at m.convnet:2:8)"),
        .init(x + "weights \"a.npz\"\nweights \"b.npz\"\noutput x", "m.convnet:3:1: duplicate weights statement (first at m.convnet:2:1)"),
        .init("input x: [1, -3]", "m.convnet:1:14: input dimensions must be non-negative, got -3"),

        // Whole file
        .init(x + "r = ReLU(x)\n", "m.convnet:3:1: model has no output; add an 'output NAME' statement"),
        .init("", "m.convnet:1:1: model has no output; add an 'output NAME' statement"),
        .init("# only a comment", "m.convnet:1:17: model has no output; add an 'output NAME' statement"),

        // Syntax
        .init(x + "c = ReLU(x\noutput c", "m.convnet:2:11: ReLU 'c': expected ')' but found newline"),
        .init(x + "c = ReLU(x", "m.convnet:2:11: ReLU 'c': expected ')' but found end of file"),
        .init(x + "c = ReLU(x) y", "m.convnet:2:13: expected end of line but found name 'y'"),
        .init(x + "c ReLU(x)", "m.convnet:2:3: expected '=' but found name 'ReLU'"),
        .init(x + "c = 3", "m.convnet:2:5: expected a layer name but found integer 3"),
        .init(x + "c = Conv2d x", "m.convnet:2:12: Conv2d 'c': expected '(' but found name 'x'"),
        .init(x + conv + ", padding=)", "m.convnet:2:69: Conv2d 'c': expected a value but found ')'"),
        .init(x + "(c) = ReLU(x)", "m.convnet:2:1: expected a statement but found '('"),
        .init("input x [1]", "m.convnet:1:9: expected ':' but found '['"),
        .init("input x: [1, 2", "m.convnet:1:15: expected ']' but found end of file"),
        .init("input x: [1, True]", "m.convnet:1:14: expected a dimension (an integer or a name) but found name 'True'"),
        .init("input 3: [1]", "m.convnet:1:7: expected an input name but found integer 3"),
        .init("input x: [1]\nweights tiny.npz", "m.convnet:2:9: expected a quoted path after 'weights' but found name 'tiny.npz'"),
        .init("input x: [1]\noutput", "m.convnet:2:7: expected an output name but found end of file"),

        // Lexer
        .init("input x: [1]\nweights \"tiny.npz\noutput x", "m.convnet:2:9: unterminated string"),
        .init(x + "c = ReLU(x @)", "m.convnet:2:12: ReLU 'c': unexpected character '@'"),
        .init("input x: [1]\u{00A0}", "m.convnet:1:13: unexpected character U+00A0"),
        .init("input x: [1]\nr = ReLU(x) -", "m.convnet:2:13: unexpected character '-'"),
        .init(x + conv + ", stride=1.5)", "m.convnet:2:68: Conv2d 'c': stride must be an integer or a tuple of integers, got float 1.5"),
        .init(x + conv + ", stride=3x)", "m.convnet:2:68: Conv2d 'c': invalid number literal '3x'"),
        .init(x + conv + ", groups=99999999999999999999)", "m.convnet:2:68: Conv2d 'c': integer literal 99999999999999999999 is too large"),
        .init("input x.: [1]", "m.convnet:1:8: unexpected character '.'"),
        .init(x + conv + ", stride=" + String(repeating: "(", count: 100_000) + ")",
              "m.convnet:2:84: Conv2d 'c': values nested more than 16 deep"),
        .init(x + conv + ", stride=((1, 2), 3))",
              "m.convnet:2:68: Conv2d 'c': stride must be an integer or a tuple of integers, got tuple ((1, 2), 3)"),
    ]

    @Test(arguments: errorCases)
    func renderedErrors(_ test: ErrorCase) {
        #expect(errorText(test.source) == test.expected)
    }

    @Test func errorsCarryStructuredParts() throws {
        let error = try #require(thrownError(Self.x + "stem = Conv2d(x, in_channels=3, out_channels=8, kernel_size=3, padding_mode='zero')"))
        #expect(error.location == loc(2, 77))
        #expect(error.context == "Conv2d 'stem'")
        #expect(error.message.hasPrefix("padding_mode must be one of"))
    }

    @Test func invalidUTF8IsAnErrorNotACrash() throws {
        var bytes = Array("input x: [1]\nc = ".utf8)
        bytes += [0xFF, 0x41]
        #expect(throws: ConvRTError("file is not valid UTF-8 text", at: loc(2, 5))) {
            try ConvnetParser.decodeUTF8(Data(bytes), file: "m.convnet")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dsl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("bad.convnet")
        try Data([0x69, 0x6E, 0xC3]).write(to: url)  // "in" then a truncated 2-byte sequence
        #expect(throws: ConvRTError("file is not valid UTF-8 text", at: ConvRT.SourceLocation(file: url.relativePath, line: 1, column: 3))) {
            try ConvnetParser.parse(contentsOf: url)
        }
        #expect(try ConvnetParser.decodeUTF8(Data("\u{FEFF}é".utf8), file: "m") == "\u{FEFF}é")
    }

    @Test func byteOrderMarkAndNonASCIIInStringsAndComments() throws {
        let model = try parse("\u{FEFF}input x: [1] # größe\nweights \"gewichte_ü.npz\"\noutput x")
        #expect(model.weightsPath == "gewichte_ü.npz")
        #expect(model.weightsLocation == loc(2, 9))
    }

    /// Mangled versions of the example either parse or throw `ConvRTError`; none may trap.
    @Test func mutatedSourcesNeverTrap() {
        let alphabet = Array("()[]=,:#'\"-.0123456789_aZ \n\t\r\u{0}é😀")
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let original = Array(Self.example)
        for _ in 0..<1500 {
            var text = original
            for _ in 0..<(1 + next(4)) {
                let at = next(text.count)
                switch next(3) {
                case 0: text.remove(at: at)
                case 1: text.insert(alphabet[next(alphabet.count)], at: at)
                default: text[at] = alphabet[next(alphabet.count)]
                }
            }
            do {
                _ = try ConvnetParser.parse(String(text), file: "m.convnet")
            } catch {
                #expect(error is ConvRTError)
            }
        }
    }

    // MARK: Helpers

    private func loc(_ line: Int, _ column: Int, file: String = "m.convnet") -> ConvRT.SourceLocation {
        ConvRT.SourceLocation(file: file, line: line, column: column)
    }

    private func parse(_ text: String) throws -> ParsedModel {
        try ConvnetParser.parse(text, file: "m.convnet")
    }

    /// The attributes of a single conv layer `c = <call>` on an input of shape `input`.
    private func conv(_ call: String, input: String = "[1, 3, 8, 8]") throws -> ConvAttributes {
        let graph = try parse("input x: \(input)\nc = \(call)\noutput c").graph
        guard case .conv(let attributes)? = graph.nodes.first?.op else {
            throw ConvRTError("not a conv: \(String(describing: graph.nodes.first?.op))")
        }
        return attributes
    }

    private func thrownError(_ text: String) -> ConvRTError? {
        do {
            _ = try parse(text)
            return nil
        } catch let error as ConvRTError {
            return error
        } catch {
            return ConvRTError("unexpected error type: \(error)")
        }
    }

    private func errorText(_ text: String) -> String? {
        thrownError(text).map { String(describing: $0) }
    }
}
