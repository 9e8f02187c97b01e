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
        guard let data = try? Data(contentsOf: url) else { return [] }
        return (try? JSONDecoder().decode([LayerCase].self, from: data)) ?? []
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
        for (label, graph) in [("convnet", compiled.graph), ("pb", reloaded)] {
            let outputs = try ReferenceExecutor.run(graph, inputs: inputs)
            for (name, file) in c.outputs {
                let expected = try NPY.read(contentsOf: dir.appendingPathComponent(file)).tensor
                let actual = try #require(outputs[name])
                expectClose(actual, expected, "\(c.case) [\(label)] output \(name)")
            }
        }
    }

    /// Where convrt words a rejection differently from PyTorch on purpose, the message it gives.
    static let deliberateDifferences: [String: String] = [:]

    @Test(arguments: errorCases)
    func rejectsLikePyTorch(_ c: ErrorCase) {
        let message = compileError(c.convnet)
        #expect(message != nil, "PyTorch rejects \(c.name) but convrt accepted it")
        guard let message else { return }
        let expected = Self.deliberateDifferences[c.name] ?? c.torch_error
        #expect(message.hasSuffix(": " + expected), "\(c.name): got \(message)")
    }
}
