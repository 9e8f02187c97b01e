/// Validation and shape function of BatchNorm1d/2d/3d (inference mode).
enum BatchNormShapeFunction {
    /// Checks the input rank (`_check_input_dim`) and channel count; resolves a Lazy layer's `num_features`.
    static func infer(_ attributes: BatchNormAttributes, input: SymbolicShape) throws -> (BatchNormAttributes, SymbolicShape) {
        var a = attributes
        let allowed = a.spatialRank == 1 ? [2, 3] : [a.spatialRank + 2]
        guard allowed.contains(input.count) else {
            let expected = allowed.map { "\($0)D" }.joined(separator: " or ")
            throw ConvRTError("expected \(expected) input (got \(input.count)D input)")
        }
        guard let channels = input[1].value else {
            throw ConvRTError("the input's channel dimension must be known when the model is compiled, but it is '\(input[1])'")
        }
        if a.numFeatures == nil { a.numFeatures = channels }
        let features = a.numFeatures ?? channels
        guard features >= 0 else { throw ConvRTError("num_features must be non-negative, but got \(features)") }
        guard channels == features else {
            let tensor = a.trackRunningStats ? "running_mean" : "weight"
            throw ConvRTError("\(tensor) should contain \(channels) elements not \(features)")
        }
        return (a, input)
    }
}
