import ConvRT
import Foundation
import FuzzSupport

/// `.convnet` text -> parse -> shape inference -> seeded weights -> `.pb` round trip -> plan/run.
/// A compiled model must survive the round trip through its own file format unchanged.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDSL(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    Fuzz.run {
        let parsed = try ConvnetParser.parse(Fuzz.data(start, count), file: "fuzz.convnet")
        let options = CompileOptions(memoryLimit: Fuzz.limit)
        let compiled = try ModelCompiler.compile(parsed, baseDirectory: URL(fileURLWithPath: "/nonexistent"), options: options)
        let graph = compiled.graph
        let bytes: Data
        do {
            bytes = try ModelFile.encode(graph)
        } catch {
            fatalError("finding: a compiled model does not encode: \(error)")
        }
        let decoded: Graph
        do {
            decoded = try ModelFile.decode(bytes, file: "fuzz.pb")
        } catch {
            fatalError("finding: a compiled model's .pb does not decode: \(error)")
        }
        guard decoded == graph else { fatalError("finding: the .pb round trip changed the graph") }
        try Fuzz.exercise(graph)
    }
}
