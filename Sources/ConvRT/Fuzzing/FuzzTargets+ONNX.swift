import Foundation

@_spi(Fuzzing) extension FuzzTargets {
    /// `.onnx` bytes -> import (protobuf, opset, constant folding, pattern rewrites) -> shape
    /// inference -> weight check -> ``exercise(_:)``, as `convrt infer MODEL.onnx` loads a model.
    public static func onnx(_ data: Data) throws {
        let graph = try ONNXImporter.importModel(data, file: "fuzz.onnx")
        let inferred = try ShapeInference.run(graph)
        try WeightBinding.validate(inferred.graph, file: "fuzz.onnx")
        try exercise(inferred.graph)
    }
}
