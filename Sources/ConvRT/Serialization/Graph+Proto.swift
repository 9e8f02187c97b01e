import Foundation
import SwiftProtobuf

/// Reads and writes convrt model files (`.pb`): a `Graph` serialized as the
/// `convrt.v1.Model` protobuf message of `Protos/convrt.proto`.
///
/// The generated message types stay internal; this adapter is the only way in
/// or out. Decoding validates everything structural (versions, names, list
/// lengths, weight sizes, topological order) and never traps on hostile bytes;
/// numeric checks of layer parameters (`groups > 0`, ...) are left to shape
/// inference, which applies them to `.convnet` and `.pb` models alike.
public enum ModelFile {
    /// The `format_version` this convrt writes and the only one it reads.
    public static let formatVersion: UInt32 = 1

    /// The `producer` string written into every file.
    static let producer = "convrt"

    /// Serializes a graph. The output is deterministic: the same graph always
    /// gives the same bytes (weights are written sorted by name).
    ///
    /// - Throws: `ConvRTError` if the encoded model would exceed protobuf's 2 GiB limit.
    public static func encode(_ graph: Graph) throws -> Data {
        do {
            return try PBModel(graph).serializedBytes()
        } catch BinaryEncodingError.missingRequiredFields {
            // convrt.proto has no required fields: swift-protobuf reports an
            // oversized message this way.
            throw ConvRTError("model is too large: protobuf messages are limited to 2 GiB")
        } catch {
            throw ConvRTError("cannot serialize model: \(error)")
        }
    }

    /// Parses and validates a model.
    ///
    /// - Parameters:
    ///   - data: The file's bytes.
    ///   - file: How to name the file in error messages.
    /// - Throws: `ConvRTError` naming `file` for anything that is not a valid
    ///   model of this `formatVersion`.
    public static func decode(_ data: Data, file: String) throws -> Graph {
        let model: PBModel
        do {
            model = try PBModel(serializedBytes: data)
        } catch {
            throw ConvRTError("\(file): not a valid convrt model: \(describe(error))")
        }
        return try ModelDecoder(file: file).graph(from: model)
    }

    /// Reads and decodes the model file at `url`.
    public static func read(contentsOf url: URL) throws -> Graph {
        try decode(try FileAccess.read(url), file: FileAccess.displayName(url))
    }

    /// Encodes `graph` and writes it to `url` atomically.
    public static func write(_ graph: Graph, to url: URL) throws {
        try FileAccess.write(try encode(graph), to: url)
    }

    /// A one-line reason for a swift-protobuf decoding error.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? BinaryDecodingError else { return "\(error)" }
        switch error {
        case .truncated: return "data is truncated"
        case .invalidUTF8: return "a string is not valid UTF-8"
        case .malformedProtobuf: return "malformed protobuf data"
        case .messageDepthLimit: return "messages are nested too deeply"
        case .trailingGarbage: return "trailing garbage after the message"
        case .missingRequiredFields: return "required fields are missing"
        case .internalExtensionError: return "internal protobuf error"
        @unknown default: return "\(error)"
        }
    }
}

// MARK: - Graph -> protobuf

extension PBModel {
    init(_ graph: Graph) {
        self.init()
        formatVersion = ModelFile.formatVersion
        producer = ModelFile.producer
        inputs = graph.inputs.map(PBValueInfo.init)
        nodes = graph.nodes.map(PBNode.init)
        outputs = graph.outputs
        weights = graph.weights.sorted { $0.key < $1.key }.map(PBWeight.init)
    }
}

extension PBValueInfo {
    init(_ input: GraphInput) {
        self.init()
        name = input.name
        dims = input.shape.map { dim in
            var pb = PBDim()
            switch dim {
            case .known(let size): pb.size = Int64(size)
            case .symbol(let symbol): pb.symbol = symbol
            }
            return pb
        }
    }
}

extension PBNode {
    init(_ node: Node) {
        self.init()
        name = node.name
        inputs = node.inputs
        if let loc = node.location {
            location = .with {
                $0.file = loc.file
                $0.line = Int64(loc.line)
                $0.column = Int64(loc.column)
            }
        }
        switch node.op {
        case .conv(let a): op = .conv(PBConvAttrs(a))
        case .unfold(let w): op = .unfold(PBUnfoldAttrs(w))
        case .fold(let f): op = .fold(PBFoldAttrs(f))
        // ReLU keeps its own field so that ReLU-only files stay readable by older readers.
        case .activation(.relu): op = .relu(PBReluAttrs())
        case .activation(let a): op = .activation(PBActivationAttrs(a))
        case .add: op = .add(PBAddAttrs())
        case .batchNorm(let b): op = .batchNorm(PBBatchNormAttrs(b))
        case .identity: op = .identity(PBIdentityAttrs())
        case .pool, .adaptivePool, .linear, .matmul, .binary, .concat, .flatten, .reshape, .transpose,
             .squeeze, .unsqueeze, .slice, .gather, .pad, .resize, .softmax, .reduceMean, .constant:
            op = PBNode.OneOf_Op(layer: node.op)
        }
    }
}

extension PBConvAttrs {
    init(_ a: ConvAttributes) {
        self.init()
        spatialRank = Int64(a.spatialRank)
        transposed = a.transposed
        lazy = a.isLazy
        if let c = a.inChannels { inChannels = Int64(c) }
        outChannels = Int64(a.outChannels)
        kernelSize = a.kernelSize.int64s
        stride = a.stride.int64s
        dilation = a.dilation.int64s
        switch a.padding {
        case .explicit(let p):
            paddingKind = .explicit
            padding = p.int64s
        case .same: paddingKind = .same
        case .valid: paddingKind = .valid
        }
        groups = Int64(a.groups)
        bias = a.hasBias
        paddingMode = PaddingMode(a.paddingMode)
        outputPadding = a.outputPadding.int64s
        if let size = a.outputSize { outputSize = .with { $0.values = size.int64s } }
    }
}

extension PBConvAttrs.PaddingMode {
    init(_ mode: ConvAttributes.PaddingMode) {
        switch mode {
        case .zeros: self = .zeros
        case .reflect: self = .reflect
        case .replicate: self = .replicate
        case .circular: self = .circular
        }
    }
}

extension PBUnfoldAttrs {
    init(_ w: SlidingWindow) {
        self.init()
        kernelSize = w.kernelSize.int64s
        dilation = w.dilation.int64s
        padding = w.padding.int64s
        stride = w.stride.int64s
    }
}

extension PBFoldAttrs {
    init(_ f: FoldAttributes) {
        self.init()
        outputSize = f.outputSize.int64s
        kernelSize = f.window.kernelSize.int64s
        dilation = f.window.dilation.int64s
        padding = f.window.padding.int64s
        stride = f.window.stride.int64s
    }
}

extension PBActivationAttrs {
    init(_ a: Activation) {
        self.init()
        switch a {
        case .relu: kind = .relu
        case .relu6: kind = .relu6
        case .leakyReLU(let slope):
            kind = .leakyRelu
            negativeSlope = slope
        case .hardtanh(let lo, let hi):
            kind = .hardtanh
            minVal = lo
            maxVal = hi
        case .sigmoid: kind = .sigmoid
        case .tanh: kind = .tanh
        case .silu: kind = .silu
        case .hardswish: kind = .hardswish
        case .hardSigmoid(let a, let b):
            kind = .hardsigmoid
            alpha = a
            beta = b
        case .gelu(let approximateTanh):
            kind = .gelu
            approximate = approximateTanh ? .tanh : .none
        }
    }
}

extension PBBatchNormAttrs {
    init(_ b: BatchNormAttributes) {
        self.init()
        spatialRank = Int64(b.spatialRank)
        lazy = b.isLazy
        if let n = b.numFeatures { numFeatures = Int64(n) }
        eps = b.eps
        affine = b.affine
        trackRunningStats = b.trackRunningStats
    }
}

extension PBWeight {
    init(_ entry: (key: String, value: Tensor)) {
        self.init()
        name = entry.key
        dims = entry.value.shape.int64s
        data = littleEndianBytes(entry.value.data)
    }
}

extension Array where Element == Int {
    var int64s: [Int64] { map { Int64($0) } }
}

/// Float32 values as little-endian IEEE-754 bytes.
private func littleEndianBytes(_ values: [Float]) -> Data {
    #if _endian(little)
        return values.withUnsafeBytes { Data($0) }
    #else
        var data = Data(capacity: values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return data
    #endif
}
