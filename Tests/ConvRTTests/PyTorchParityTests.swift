import Foundation
import Testing
@testable import ConvRT

/// Golden outputs recorded from PyTorch by Tools/gen_fixtures.py.
struct LayerCase: Decodable, CustomTestStringConvertible, Sendable {
    var `case`: String
    var inputs: [String: String]
    var outputs: [String: String]
    var testDescription: String { self.case }

    static func all() -> [LayerCase] {
        let url = fixturesURL.appendingPathComponent("layers/manifest.json")
        struct Manifest: Decodable { var cases: [LayerCase] }
        guard let data = try? Data(contentsOf: url) else { return [] }
        return (try? JSONDecoder().decode(Manifest.self, from: data))?.cases ?? []
    }
}

/// Configurations PyTorch rejects, with PyTorch's own message.
struct ErrorCase: Decodable, CustomTestStringConvertible, Sendable {
    var name: String
    var convnet: String
    var torch_error: String
    var testDescription: String { name }

    static func all() -> [ErrorCase] {
        let url = fixturesURL.appendingPathComponent("errors.json")
        guard let data = try? Data(contentsOf: url) else { return [] }
        return (try? JSONDecoder().decode([ErrorCase].self, from: data)) ?? []
    }
}

@Suite struct PyTorchParityTests {
    static let layerCases = LayerCase.all()
    static let errorCases = ErrorCase.all()

    @Test func fixturesArePresent() {
        #expect(Self.layerCases.count > 100)
        #expect(Self.errorCases.count > 30)
    }

    /// Every case through the .convnet path and through .pb (encode, decode, run).
    @Test(arguments: layerCases)
    func matchesPyTorch(_ c: LayerCase) throws {
        let dir = fixturesURL.appendingPathComponent("layers")
        let compiled = try ModelCompiler.compile(contentsOf: dir.appendingPathComponent("\(c.case).convnet"))
        var inputs: [String: Tensor] = [:]
        for (name, file) in c.inputs {
            inputs[name] = try NPY.read(contentsOf: dir.appendingPathComponent(file)).tensor
        }
        let reloaded = try ModelFile.decode(ModelFile.encode(compiled.graph), file: "\(c.case).pb")
        #expect(reloaded == compiled.graph)
        let runs: [(String, () throws -> [String: Tensor])] = [
            ("reference convnet", { try ReferenceExecutor.run(compiled.graph, inputs: inputs) }),
            ("reference pb", { try ReferenceExecutor.run(reloaded, inputs: inputs) }),
            ("planned", { try CompiledModel(graph: reloaded, options: PlanOptions(verify: true)).run(inputs) }),
            ("planned, no fusion, no reuse", {
                try CompiledModel(graph: reloaded, options: PlanOptions(fuse: false, reuse: false, verify: true)).run(inputs)
            }),
        ]
        for (label, run) in runs {
            let outputs = try run()
            for (name, file) in c.outputs {
                let expected = try NPY.read(contentsOf: dir.appendingPathComponent(file)).tensor
                let actual = try #require(outputs[name])
                expectClose(actual, expected, "\(c.case) [\(label)] output \(name)")
            }
        }
    }

    /// Where convrt words a rejection differently from PyTorch on purpose, the message it gives.
    static let deliberateDifferences: [String: String] = [
        // PyTorch fails with a TypeError from deep inside F.conv_transpose2d.
        "convtranspose2d_padding_same": "padding must be an integer or a tuple of integers, got string 'same'",
        // PyTorch raises an IndexError ("Dimension out of range") before its own rank check.
        "unfold_rank2_input": "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: [5, 5]",
        // PyTorch raises an IndexError ("tuple index out of range") reading input.shape[1] to materialize.
        "lazybatchnorm1d_rank1_input": "expected 2D or 3D input (got 1D input)",
        // PyTorch raises an IndexError ("tuple index out of range") reading input.shape[-1] to materialize.
        "lazylinear_0d_input": "both arguments to linear need to be at least 1D, but they are 0D and 2D",
    ]

    @Test(arguments: errorCases)
    func rejectsLikePyTorch(_ c: ErrorCase) {
        let message = compileError(c.convnet)
        #expect(message != nil, "PyTorch rejects \(c.name) but convrt accepted it")
        guard let message else { return }
        // convrt's messages are one line; a few of PyTorch's go on with more lines of help.
        let expected = Self.deliberateDifferences[c.name] ?? String(c.torch_error.prefix { $0 != "\n" })
        #expect(message.hasSuffix(": " + expected), "\(c.name): got \(message)")
    }
}
