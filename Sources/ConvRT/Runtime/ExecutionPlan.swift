/// What runs after a convolution's accumulation, while the output is still in cache:
/// `y = post(pre(acc + bias) + residual)`.
public struct Epilogue: Hashable, Sendable {
    /// Applied to `acc + bias` (a fused Conv -> activation).
    public var preActivation: Activation?
    /// Index into the step's inputs of a tensor added elementwise (a fused residual `Add`).
    public var residualInput: Int?
    /// Applied after the residual (a fused `Add` -> activation).
    public var postActivation: Activation?

    public init(preActivation: Activation? = nil, residualInput: Int? = nil, postActivation: Activation? = nil) {
        self.preActivation = preActivation
        self.residualInput = residualInput
        self.postActivation = postActivation
    }

    var isEmpty: Bool { preActivation == nil && residualInput == nil && postActivation == nil }
}

/// The computation of one step, with everything it needs resolved at plan time
/// (weights folded and captured, BatchNorm reduced to per-channel scale and shift).
public enum StepKernel: Sendable {
    /// Conv or ConvTranspose with its (possibly BatchNorm-folded) parameters and epilogue.
    case conv(ConvAttributes, weight: Tensor, bias: Tensor?, epilogue: Epilogue)
    case unfold(SlidingWindow)
    case fold(FoldAttributes)
    /// Inference BatchNorm with running statistics: `y = x * scale[c] + shift[c]`.
    case channelAffine(scale: [Float], shift: [Float])
    /// BatchNorm without running statistics: normalises with the batch's own statistics.
    case batchStatisticsNorm(eps: Double, weight: Tensor?, bias: Tensor?)
    case activation(Activation)
    /// Broadcasting sum, optionally followed by an activation.
    case add(then: Activation?)
    /// Copies its input (an `Identity` whose result is a graph output).
    case copy
    /// Pooling, adaptive pooling, padding or resizing.
    case layer(SpatialLayerKernel)

    /// Whether output element `i` depends only on input element `i` (so it may overwrite its input).
    var isElementwise: Bool {
        switch self {
        case .channelAffine, .activation, .copy: return true
        case .add, .conv, .unfold, .fold, .batchStatisticsNorm, .layer: return false
        }
    }
}

/// One step of an execution plan: a kernel, its operand values and the value it defines.
public struct PlanStep: Sendable {
    public var kernel: StepKernel
    /// Value names read, in operand order.
    public var inputs: [String]
    /// The value defined (named after the last original layer the step covers).
    public var output: String
    /// The original graph nodes this step computes, in order (e.g. `conv1, bn1, relu1`).
    public var covers: [String]
    /// The name of the operation for display, e.g. `Conv2d+BatchNorm2d+ReLU`.
    public var opName: String
    /// For convolutions, the algorithm chosen when the plan was made.
    var convAlgorithm: ConvAlgorithm? = nil

    /// The algorithm for display: `gemm (sgemm_6x16_avx2)`, `direct`.
    public var algorithm: String? { convAlgorithm?.description }
}

/// How a convolution step runs; chosen once per plan by `ConvAlgorithm.choose`.
enum ConvAlgorithm: CustomStringConvertible {
    /// Direct loops over output planes (depthwise, transposed, and epilogues SGEMM cannot store).
    case direct
    /// im2col (or the input itself for 1x1) times packed weights.
    case gemm(GEMMConv)

    var description: String {
        switch self {
        case .direct: return "direct"
        case .gemm: return "gemm (\(SGEMM.kernelName))"
        }
    }

    /// The one place where a convolution's backend is chosen. SGEMM wins whenever each group
    /// has several input channels; a depthwise conv has K = kernel size only, too little to
    /// amortise im2col. Transposed convolutions stay direct for now.
    static func choose(_ step: PlanStep, threads: Int) -> ConvAlgorithm {
        guard case .conv(let a, let weight, let bias, let e) = step.kernel else { return .direct }
        let inPerGroup = (a.inChannels ?? 0) / max(a.groups, 1)
        guard !a.transposed, inPerGroup > 1, GEMMConv.supports(e) else { return .direct }
        return .gemm(GEMMConv(a, weight: weight, bias: bias, epilogue: e, threads: threads))
    }
}
