import Foundation

/// The model file formats convrt loads, told apart by extension and, for `.pb` and unknown
/// extensions, by the first bytes: a convrt `.pb` starts with `format_version = 1`
/// (`08 01`), an ONNX `ModelProto` with `ir_version` >= 3 (`08 03`...).
public enum ModelFormat: Sendable, Equatable {
    case convnet
    case convrtProtobuf
    case onnx

    /// The format of the file at `url`.
    public static func detect(_ url: URL) throws -> ModelFormat {
        switch url.pathExtension.lowercased() {
        case "convnet": return .convnet
        case "onnx": return .onnx
        case "pb": return try sniff(url) ?? .convrtProtobuf
        default:
            if let format = try sniff(url) { return format }
            let ext = url.pathExtension.isEmpty ? "(no file extension)" : "'.\(url.pathExtension)'"
            throw ConvRTError("\(FileAccess.displayName(url)): unknown model format \(ext); expected .convnet, .pb or .onnx")
        }
    }

    private static func sniff(_ url: URL) throws -> ModelFormat? {
        let head = try FileAccess.readPrefix(url, count: 2)
        guard head.count == 2, head[0] == 0x08 else { return nil }
        return head[1] == 0x01 ? .convrtProtobuf : .onnx
    }
}

extension ModelCompiler {
    /// Imports an `.onnx` file and checks it like a `.pb`: shape inference and the parameter set.
    public static func loadONNX(contentsOf url: URL) throws -> InferredGraph {
        let file = FileAccess.displayName(url)
        let graph = try ONNXImporter.importModel(contentsOf: url)
        do {
            let inferred = try ShapeInference.run(graph)
            try WeightBinding.validate(inferred.graph, file: file)
            return inferred
        } catch let error as ConvRTError where !error.description.hasPrefix(file + ":") {
            throw ConvRTError("\(file): \(error.description)")
        }
    }
}
