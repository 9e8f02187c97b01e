import Foundation
import Testing
@testable import ConvRT

/// The example models under `Models/`: the committed `.pb` is what compiling the `.convnet`
/// gives today, and both run to PyTorch's recorded output.
@Suite struct ModelsTests {
    /// `Models/<name>.<ext>`, relative to the package root so locations read `Models/x.convnet`,
    /// as in the committed `.pb` files (made by `convrt compile Models/x.convnet` at the root).
    static func file(_ name: String, _ ext: String) -> URL {
        URL(fileURLWithPath: "Models/\(name).\(ext)", relativeTo: packageRootURL)
    }

    @Test func modelsArePresent() {
        #expect(exampleModelNames.count >= 3, "Models/ under \(packageRootURL.path)")
        for name in exampleModelNames {
            for ext in ["pb", "npz", "input.npy", "expected.npy"] {
                #expect(FileManager.default.fileExists(atPath: Self.file(name, ext).path), "\(name).\(ext)")
            }
        }
    }

    @Test(arguments: exampleModelNames)
    func committedPBIsCurrent(_ name: String) throws {
        let compiled = try ModelCompiler.compile(contentsOf: Self.file(name, "convnet"))
        let committed = try Data(contentsOf: Self.file(name, "pb"))
        #expect(try ModelFile.encode(compiled.graph) == committed,
                "Models/\(name).pb is stale: run `convrt compile Models/\(name).convnet -o Models/\(name).pb` at the package root")
        #expect(try ModelFile.decode(committed, file: "\(name).pb") == compiled.graph)
    }

    @Test(arguments: exampleModelNames)
    func matchesPyTorch(_ name: String) throws {
        let input = try NPY.read(contentsOf: Self.file(name, "input.npy")).tensor
        let expected = try NPY.read(contentsOf: Self.file(name, "expected.npy")).tensor
        let fromSource = try ModelCompiler.load(contentsOf: Self.file(name, "convnet")).graph
        let fromPB = try ModelCompiler.load(contentsOf: Self.file(name, "pb")).graph
        for (label, graph) in [("convnet", fromSource), ("pb", fromPB)] {
            let inputName = try #require(graph.inputs.first?.name)
            let outputs = try ReferenceExecutor.run(graph, inputs: [inputName: input])
            #expect(outputs.count == 1)
            let output = try #require(graph.outputs.first.flatMap { outputs[$0] })
            expectClose(output, expected, "\(name) [\(label)]")
        }
    }
}
