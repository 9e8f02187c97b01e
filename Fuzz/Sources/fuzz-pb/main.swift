import ConvRT
import Foundation
import FuzzSupport

/// `.pb` bytes -> protobuf decoding and validation -> shape inference -> weight check -> plan/run,
/// as `convrt infer MODEL.pb` does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPB(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    Fuzz.run {
        let graph = try ModelFile.decode(Fuzz.data(start, count), file: "fuzz.pb")
        let inferred = try ShapeInference.run(graph)
        try WeightBinding.validate(inferred.graph, file: "fuzz.pb")
        try Fuzz.exercise(inferred.graph)
    }
}
