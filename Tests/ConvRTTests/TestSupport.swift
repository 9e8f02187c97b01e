import Foundation
import Testing
@testable import ConvRT

/// The test bundle's `Fixtures/` folder.
let fixturesURL: URL = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")

/// PyTorch's comparison rule for this project: max abs error <= 1e-4 * max(1, max|expected|).
func expectClose(_ actual: Tensor, _ expected: Tensor, _ what: String, tolerance: Float = 1e-4,
                 sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "\(what): shape", sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    let scale = max(1, expected.data.map(abs).max() ?? 0)
    let worst = zip(actual.data, expected.data).map { abs($0 - $1) }.max() ?? 0
    #expect(worst <= tolerance * scale, "\(what): max abs error \(worst) > \(tolerance) * \(scale)",
            sourceLocation: sourceLocation)
}

/// Compiles DSL text (no weights file: seeded init) and returns the thrown error's text, or nil.
func compileError(_ text: String, file: String = "model.convnet") -> String? {
    do {
        let parsed = try ConvnetParser.parse(text, file: file)
        _ = try ModelCompiler.compile(parsed, baseDirectory: URL(fileURLWithPath: "/"))
        return nil
    } catch {
        return String(describing: error)
    }
}
