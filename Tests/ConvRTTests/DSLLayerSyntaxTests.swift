import Foundation
import Testing
@testable import ConvRT

/// Float literals and the activation, BatchNorm and Identity layers of the `.convnet` DSL.
@Suite struct DSLLayerSyntaxTests {
    // MARK: Float literals

    struct Literal: Sendable, CustomTestStringConvertible {
        let text: String
        let value: Double
        let rendered: String
        var testDescription: String { text }
    }

    static let literals: [Literal] = [
        .init(text: "0.5", value: 0.5, rendered: "0.5"),
        .init(text: "-0.5", value: -0.5, rendered: "-0.5"),
        .init(text: ".25", value: 0.25, rendered: "0.25"),
        .init(text: "-.25", value: -0.25, rendered: "-0.25"),
        .init(text: "2.", value: 2, rendered: "2.0"),
        .init(text: "1e-3", value: 1e-3, rendered: "0.001"),
        .init(text: "1E+2", value: 100, rendered: "100.0"),
        .init(text: "1e-05", value: 1e-5, rendered: "1e-05"),
        .init(text: "-2.5e-7", value: -2.5e-7, rendered: "-2.5e-07"),
        .init(text: "0.0", value: 0, rendered: "0.0"),
        .init(text: "-0.0", value: 0, rendered: "-0.0"),
        .init(text: "1e16", value: 1e16, rendered: "1e+16"),
        .init(text: "1000000000000000.0", value: 1e15, rendered: "1000000000000000.0"),
        .init(text: "0.1", value: 0.1, rendered: "0.1"),
        .init(text: "1e-999", value: 0, rendered: "0.0"),
    ]

    @Test(arguments: literals)
    func floatLiterals(_ literal: Literal) throws {
        var lexer = Lexer(literal.text, file: "m.convnet")
        let token = try lexer.next()
        guard case .float(let v) = token.kind else {
            Issue.record("\(literal.text) lexed as \(token.description)")
            return
        }
        #expect(v == literal.value)
        #expect(ArgValue.float(v).rendered == literal.rendered)
        #expect(try lexer.next().kind == .endOfFile)
    }

    @Test func integersStayIntegers() throws {
        var lexer = Lexer("3 -4 007", file: "m.convnet")
        #expect(try lexer.next().kind == .integer(3))
        #expect(try lexer.next().kind == .integer(-4))
        #expect(try lexer.next().kind == .integer(7))
    }

    @Test func pythonReprMatchesCPython() {
        // Values checked against CPython's repr().
        let cases: [(Double, String)] = [
            (1e-5, "1e-05"), (0.0001, "0.0001"), (1e15, "1000000000000000.0"), (1e16, "1e+16"),
            (1.2345678901234568e+17, "1.2345678901234568e+17"), (0.1 + 0.2, "0.30000000000000004"),
            (5e-324, "5e-324"), (1e22, "1e+22"), (123.0, "123.0"), (-1.5, "-1.5"), (.infinity, "inf"),
            (-.infinity, "-inf"), (.nan, "nan"), (12345.678, "12345.678"),
        ]
        for (value, expected) in cases { #expect(pythonRepr(value) == expected) }
        #expect(pythonRepr(Float(0.1)) == "0.1")
        #expect(pythonRepr(Float(-0.5)) == "-0.5")
        #expect(pythonRepr(Float(1e-8)) == "1e-08")
    }

    // MARK: Layers

    @Test func batchNormArguments() throws {
        let op = try layer("BatchNorm2d(x, num_features=3, eps=1e-3, momentum=None, affine=False, track_running_stats=True)")
        #expect(op == .batchNorm(BatchNormAttributes(spatialRank: 2, numFeatures: 3, eps: 1e-3, affine: false)))
        #expect(try layer("BatchNorm1d(x, num_features=3)", input: "[4, 3]")
            == .batchNorm(BatchNormAttributes(spatialRank: 1, numFeatures: 3)))
        #expect(try layer("BatchNorm3d(x, num_features=3, eps=1, momentum=0.5, bias=True)", input: "[1, 3, 2, 2, 2]")
            == .batchNorm(BatchNormAttributes(spatialRank: 3, numFeatures: 3, eps: 1)))
        #expect(try layer("LazyBatchNorm2d(x, track_running_stats=False)")
            == .batchNorm(BatchNormAttributes(spatialRank: 2, isLazy: true, numFeatures: nil, trackRunningStats: false)))
        // bias is ignored without affine, as in PyTorch.
        #expect(try layer("BatchNorm2d(x, num_features=3, affine=False, bias=False)")
            == .batchNorm(BatchNormAttributes(spatialRank: 2, numFeatures: 3, affine: false)))
    }

    @Test func activationArguments() throws {
        #expect(try layer("ReLU6(x, inplace=True)") == .activation(.relu6))
        #expect(try layer("LeakyReLU(x)") == .activation(.leakyReLU(negativeSlope: 0.01)))
        #expect(try layer("LeakyReLU(x, negative_slope=0.2, inplace=False)") == .activation(.leakyReLU(negativeSlope: 0.2)))
        #expect(try layer("LeakyReLU(x, negative_slope=2)") == .activation(.leakyReLU(negativeSlope: 2)))
        #expect(try layer("Hardtanh(x)") == .activation(.hardtanh(minValue: -1, maxValue: 1)))
        #expect(try layer("Hardtanh(x, min_val=-0.5, max_val=2)") == .activation(.hardtanh(minValue: -0.5, maxValue: 2)))
        #expect(try layer("Hardtanh(x, min_val=-3, max_val=3, min_value=0)") == .activation(.hardtanh(minValue: 0, maxValue: 3)))
        #expect(try layer("Sigmoid(x)") == .activation(.sigmoid))
        #expect(try layer("Tanh(x)") == .activation(.tanh))
        #expect(try layer("SiLU(x, inplace=True)") == .activation(.silu))
        #expect(try layer("Hardswish(x)") == .activation(.hardswish))
        #expect(try layer("GELU(x)") == .activation(.gelu(approximateTanh: false)))
        #expect(try layer("GELU(x, approximate='none')") == .activation(.gelu(approximateTanh: false)))
        #expect(try layer("GELU(x, approximate=\"tanh\")") == .activation(.gelu(approximateTanh: true)))
    }

    @Test func identityIgnoresEveryArgument() throws {
        #expect(try layer("Identity(x)") == .identity)
        #expect(try layer("Identity(x, 54, unused='abc', p=(1, 2.5), q=None)") == .identity)
        let graph = try parse("input x: [1, 3]\ni = Identity(x, y, 3)\noutput i").graph
        #expect(graph.nodes.first?.inputs == ["x"])
    }

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        let source: String
        let expected: String
        init(_ source: String, _ expected: String) {
            self.source = source
            self.expected = expected
        }
        var testDescription: String { expected }
    }

    static let x = "input x: [1, 3, 8, 8]\n"

    static let errorCases: [ErrorCase] = [
        .init(x + "h = Hardtanh(x, min_val=1.0, max_val=1.0)",
              "m.convnet:2:38: Hardtanh 'h': max_val (1.0) must be greater than min_val (1.0)"),
        .init(x + "h = Hardtanh(x, min_val=2, max_val=-2)",
              "m.convnet:2:36: Hardtanh 'h': max_val (-2) must be greater than min_val (2)"),
        .init(x + "h = Hardtanh(x, max_val=-1.5)",
              "m.convnet:2:25: Hardtanh 'h': max_val (-1.5) must be greater than min_val (-1.0)"),
        .init(x + "h = Hardtanh(x, min_val=1)",
              "m.convnet:2:25: Hardtanh 'h': max_val (1.0) must be greater than min_val (1)"),
        .init(x + "h = Hardtanh(x, min_val='a')", "m.convnet:2:25: Hardtanh 'h': min_val must be a number, got string 'a'"),
        .init(x + "g = GELU(x, approximate='exact')",
              "m.convnet:2:25: GELU 'g': approximate argument must be either none or tanh."),
        .init(x + "g = GELU(x, approximate=None)", "m.convnet:2:25: GELU 'g': approximate must be a string, got None"),
        .init(x + "l = LeakyReLU(x, negative_slope=True)",
              "m.convnet:2:33: LeakyReLU 'l': negative_slope must be a number, got boolean true"),
        .init(x + "s = Sigmoid(x, inplace=True)",
              "m.convnet:2:16: Sigmoid 's': unknown argument 'inplace' for Sigmoid, which takes no arguments"),
        .init(x + "t = Tanh(x, 1)",
              "m.convnet:2:13: Tanh 't': unexpected positional argument 1; layer parameters are passed by keyword"),
        .init(x + "r = ReLU6(x, negative_slope=0.1)",
              "m.convnet:2:14: ReLU6 'r': unknown argument 'negative_slope' for ReLU6; valid arguments are inplace"),
        .init(x + "b = BatchNorm2d(x)", "m.convnet:2:5: BatchNorm2d 'b': missing required argument 'num_features'"),
        .init(x + "b = BatchNorm2d(x, 3)",
              "m.convnet:2:20: BatchNorm2d 'b': unexpected positional argument 3; layer parameters are passed by keyword, e.g. num_features=3"),
        .init(x + "b = BatchNorm2d(x, num_features=3.0)",
              "m.convnet:2:33: BatchNorm2d 'b': num_features must be an integer, got float 3.0"),
        .init(x + "b = BatchNorm2d(x, num_features=3, eps='1e-5')",
              "m.convnet:2:40: BatchNorm2d 'b': eps must be a number, got string '1e-5'"),
        .init(x + "b = BatchNorm2d(x, num_features=3, momentum='a')",
              "m.convnet:2:45: BatchNorm2d 'b': momentum must be a number or None, got string 'a'"),
        .init(x + "b = BatchNorm2d(x, num_features=3, affine=1)",
              "m.convnet:2:43: BatchNorm2d 'b': affine must be true or false, got integer 1"),
        .init(x + "b = BatchNorm2d(x, num_features=3, bias=False)",
              "m.convnet:2:41: BatchNorm2d 'b': bias=False with affine=True is not supported; use affine=False, or keep the bias (zeros)"),
        .init(x + "b = LazyBatchNorm2d(x, num_features=3)",
              "m.convnet:2:24: LazyBatchNorm2d 'b': LazyBatchNorm2d infers num_features from its input; remove this argument"),
        .init(x + "b = BatchNorm2d(x, num_feature=3)",
              "m.convnet:2:20: BatchNorm2d 'b': unknown argument 'num_feature' for BatchNorm2d; did you mean 'num_features'?"),
        .init(x + "b = Batchnorm2d(x, num_features=3)",
              "m.convnet:2:5: unknown layer 'Batchnorm2d'; did you mean 'BatchNorm2d'?"),
        .init(x + "i = Identity()", "m.convnet:2:5: Identity 'i': Identity takes 1 input, got 0"),
        .init(x + "i = Identity(3)", "m.convnet:2:14: Identity 'i': input 1 of Identity must be a value name, got integer 3"),
        .init("input x: [1, 2.5]", "m.convnet:1:14: expected a dimension (an integer or a name) but found float 2.5"),
        .init(x + "l = LeakyReLU(x, negative_slope=1.5.2)",
              "m.convnet:2:33: LeakyReLU 'l': invalid number literal '1.5.2'"),
        .init(x + "l = LeakyReLU(x, negative_slope=1e999)",
              "m.convnet:2:33: LeakyReLU 'l': float literal 1e999 is too large"),
        .init(x + "l = LeakyReLU(x, negative_slope=1e)", "m.convnet:2:33: LeakyReLU 'l': invalid number literal '1e'"),
        .init(x + "l = LeakyReLU(x, negative_slope=.)", "m.convnet:2:33: LeakyReLU 'l': unexpected character '.'"),
    ]

    @Test(arguments: errorCases)
    func renderedErrors(_ test: ErrorCase) {
        #expect(errorText(test.source) == test.expected)
    }

    // MARK: Helpers

    private func parse(_ text: String) throws -> ParsedModel {
        try ConvnetParser.parse(text, file: "m.convnet")
    }

    /// The op of a single layer `l = <call>` on an input of shape `input`.
    private func layer(_ call: String, input: String = "[1, 3, 8, 8]") throws -> Op? {
        try parse("input x: \(input)\nl = \(call)\noutput l").graph.nodes.first?.op
    }

    private func errorText(_ text: String) -> String? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return String(describing: error)
        }
    }
}
