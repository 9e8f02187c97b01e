/// Validation and shape function of BatchNorm1d/2d/3d in inference (`eval()`) mode.
///
/// The checks run in PyTorch's order, with its messages: the constructor's tensor allocation,
/// the Lazy materialization, `_check_input_dim`, `F.batch_norm`'s `eps` (and batch-size) checks,
/// then aten's per-channel size checks. BatchNorm has no unbatched form: BatchNorm1d takes
/// `(N, C)` or `(N, C, L)`, BatchNorm2d `(N, C, H, W)`, BatchNorm3d `(N, C, D, H, W)`.
/// A batch of 0 is fine.
enum BatchNormShapeFunction {
    /// Checks the input against the layer and resolves a Lazy layer's `num_features`.
    static func infer(_ attributes: BatchNormAttributes, input: SymbolicShape) throws -> (BatchNormAttributes, SymbolicShape) {
        var a = attributes
        let hasTensors = a.affine || a.trackRunningStats
        if let n = a.numFeatures, n < 0, !a.isLazy { try rejectNegativeFeatures(n, a) }
        try checkRank(a, input)
        if a.numFeatures == nil {
            // LazyBatchNorm materializes its tensors from `input.shape[1]` before forward runs.
            // Without tensors it never materializes; the channel count is then informational.
            if let channels = input[1].value {
                a.numFeatures = channels
            } else if hasTensors {
                throw ConvRTError("the input's channel dimension must be known when the model is compiled, but it is '\(input[1])'")
            }
        }
        try checkStatistics(a, input)
        guard hasTensors, let features = a.numFeatures else { return (a, input) }
        if input.contains(.known(0)) {
            // aten returns `input * weight[0] + bias[0]` for an empty input without checking sizes,
            // so only an empty weight fails (PyTorch's IndexError).
            if a.affine, features == 0 {
                throw ConvRTError("select(): index 0 out of range for tensor of size [0] at dimension 0")
            }
            return (a, input)
        }
        if let channels = input[1].value, channels != features {
            let tensor = a.trackRunningStats ? "running_mean" : "weight"
            throw ConvRTError("\(tensor) should contain \(channels) elements not \(features)")
        }
        return (a, input)
    }

    /// The constructor allocates `weight` (`torch.empty`) before the running stats (`torch.zeros`).
    private static func rejectNegativeFeatures(_ n: Int, _ a: BatchNormAttributes) throws {
        if a.affine { throw ConvRTError("Trying to create tensor with negative dimension \(n): [\(n)]") }
        if a.trackRunningStats { throw ConvRTError("zeros: Dimension size must be non-negative.") }
    }

    /// `_check_input_dim`. (A Lazy layer given fewer than 2 dims fails in PyTorch with an
    /// IndexError from `input.shape[1]`; convrt reports the rank instead.)
    private static func checkRank(_ a: BatchNormAttributes, _ input: SymbolicShape) throws {
        let allowed = a.spatialRank == 1 ? [2, 3] : [a.spatialRank + 2]
        guard allowed.contains(input.count) else {
            let expected = allowed.map { "\($0)D" }.joined(separator: " or ")
            throw ConvRTError("expected \(expected) input (got \(input.count)D input)")
        }
    }

    /// Without running stats, eval mode normalizes with the batch's own statistics, which
    /// PyTorch treats as training: more than one value per channel, and `eps > 0`.
    private static func checkStatistics(_ a: BatchNormAttributes, _ input: SymbolicShape) throws {
        guard !a.trackRunningStats else {
            if a.eps < 0 { throw ConvRTError("batch_norm eps must be non-negative, but got \(pythonRepr(a.eps))") }
            return
        }
        let perChannel = [input[0]] + input.dropFirst(2)
        if let sizes = perChannel.concrete, sizes.allSatisfy({ $0 == 1 }) {
            throw ConvRTError("Expected more than 1 value per channel when training, got input size torch.Size(\(input.rendered))")
        }
        if a.eps <= 0 { throw ConvRTError("batch_norm eps must be positive during training, but got \(pythonRepr(a.eps))") }
    }
}
