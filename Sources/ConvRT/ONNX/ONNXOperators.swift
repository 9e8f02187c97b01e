/// The default-domain operators the importer maps, and the dispatch to their converters.
enum ONNXOperators {
    /// Operators that become convrt nodes (or aliases).
    static let mapped: Set<String> = [
        "Conv", "ConvTranspose", "BatchNormalization",
        "Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Gelu",
        "Add", "Sub", "Mul", "Div", "Neg", "Reciprocal", "Concat",
        "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
        "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Slice", "Gather",
        "Gemm", "MatMul", "Pad", "Resize", "Upsample", "Softmax", "LogSoftmax", "ReduceMean", "Col2Im",
        "Identity", "Dropout", "Constant", "Cast",
    ]

    /// Operators evaluated at import only: their inputs must be known (shapes, constants).
    static let foldedOnly: Set<String> = ["Shape", "Size", "ConstantOfShape", "Range", "Equal", "Where", "Expand"]

    static var supported: Set<String> { mapped.union(foldedOnly) }
}

extension ImportSession {
    /// Converts one node: folded when its inputs are known, else mapped to convrt nodes.
    mutating func convert(_ node: ONNXNode) throws -> ImportedValue {
        if let folded = try fold(node) { return .constant(folded) }
        switch node.opType {
        case "Conv": return try conv(node)
        case "ConvTranspose": return try convTranspose(node)
        case "BatchNormalization": return try batchNormalization(node)
        case "Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Gelu": return try activation(node)
        case "Clip": return try clip(node)
        case "Add", "Sub", "Mul", "Div": return try binary(node)
        case "Neg", "Reciprocal": return try negateOrInvert(node)
        case "Concat": return try concat(node)
        case "MaxPool", "AveragePool": return try pool(node)
        case "GlobalAveragePool", "GlobalMaxPool": return try globalPool(node)
        case "Flatten": return try flatten(node)
        case "Reshape": return try reshape(node)
        case "Transpose": return try transpose(node)
        case "Squeeze", "Unsqueeze": return try squeezeOrUnsqueeze(node)
        case "Slice": return try slice(node)
        case "Gather": return try gather(node)
        case "Gemm": return try gemm(node)
        case "MatMul": return try matmul(node)
        case "Pad": return try pad(node)
        case "Resize", "Upsample": return try resize(node)
        case "Softmax", "LogSoftmax": return try softmax(node)
        case "ReduceMean": return try reduceMean(node)
        case "Col2Im": return try col2Im(node)
        case "Identity", "Dropout": return try passThrough(node)
        case "Cast": return try cast(node)
        default:
            if ONNXOperators.foldedOnly.contains(node.opType) {
                throw ConvRTError("its inputs must be known at import (constants or shapes), but one is computed at run time")
            }
            throw ConvRTError("internal error: no converter")
        }
    }
}
