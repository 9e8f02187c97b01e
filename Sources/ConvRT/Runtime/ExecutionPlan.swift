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
    /// Linear, MatMul, Sub/Mul/Div, Concat, Flatten/Reshape/Squeeze/Unsqueeze, Transpose, Slice,
    /// Gather, Softmax/LogSoftmax, ReduceMean, Constant.
    case tensor(TensorLayerKernel)
    /// Pooling, adaptive pooling, padding or resizing.
    case layer(SpatialLayerKernel)

    /// Whether output element `i` depends only on input element `i` (so it may overwrite its input).
    var isElementwise: Bool {
        switch self {
        case .channelAffine, .activation, .copy: return true
        case .tensor(let k): return k.isView
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
    public var algorithm: String? {
        if case .tensor(let k) = kernel { return k.algorithm }
        return convAlgorithm?.description
    }
}

/// How a convolution step runs; chosen once per plan by `ConvAlgorithm.choose`.
enum ConvAlgorithm: CustomStringConvertible {
    /// Direct loops over output planes (depthwise, transposed, and epilogues SGEMM cannot store).
    case direct
    /// im2col (or the input itself for 1x1) times packed weights.
    case gemm(GEMMConv)
    /// A 1x1 conv on a small plane: the pixels times the packed transposed weights.
    case pixelMajorGEMM(PixelMajorConv)
    /// Vector kernels over zero-padded row bands: depthwise and narrow grouped convs.
    case depthwise(DepthwiseConv)
    /// ConvTranspose: SGEMM into columns, then a gathering col2im with the epilogue.
    case transposedGEMM(ConvTransposeGEMM)
    /// Winograd F(4x4, 3x3) for 3x3 stride-1 2-D convolutions.
    case winograd(WinogradConv)

    var description: String {
        switch self {
        case .direct: return "direct"
        case .gemm: return "gemm (\(SGEMM.kernelName))"
        case .pixelMajorGEMM(let p): return "gemm pixel-major (\(p.weights.isa.kernelName))"
        case .depthwise(let d): return "\(d.inPerGroup == 1 ? "depthwise" : "grouped-direct") (\(d.kernelName))"
        case .transposedGEMM: return "gemm+col2im (\(SGEMM.kernelName))"
        case .winograd(let w): return "winograd F(4x4,3x3) (\(w.positions.first?.isa.kernelName ?? SGEMM.kernelName))"
        }
    }

    /// The one place where a convolution's backend is chosen. A 3x3 stride-1 2-D conv with
    /// enough channels and pixels runs Winograd; depthwise and narrow grouped convs run the
    /// direct vector kernels (see `DepthwiseConv.prefers`: too little K per group to amortise
    /// im2col); SGEMM takes the rest with several input channels per group, pixel-major for
    /// 1x1 convs on small planes (`PixelMajorConv.prefers`); transposed convolutions take
    /// GEMM + col2im.
    static func choose(_ step: PlanStep, threads: Int, shapes: [String: [Int]] = [:]) -> ConvAlgorithm {
        guard case .conv(let a, let weight, let bias, let e) = step.kernel else { return .direct }
        if WinogradConv.applies(a), let x = shapes[step.inputs[0]], let y = shapes[step.output] {
            let s = PlanExecutor.convShape(a, inShape: x, outShape: y)
            if WinogradConv.isProfitable(s),
               let w = WinogradConv(a, weight: weight, bias: bias, epilogue: e, shape: s, threads: threads) {
                return .winograd(w)
            }
        }
        if DepthwiseConv.prefers(a) {
            let shape = shapes[step.inputs[0]].flatMap { x in
                shapes[step.output].map { PlanExecutor.convShape(a, inShape: x, outShape: $0) }
            }
            return .depthwise(DepthwiseConv(a, weight: weight, bias: bias, epilogue: e, threads: threads, shape: shape))
        }
        let inPerGroup = (a.inChannels ?? 0) / max(a.groups, 1)
        if a.transposed, inPerGroup > 0 {
            return .transposedGEMM(ConvTransposeGEMM(a, weight: weight, bias: bias, epilogue: e, threads: threads))
        }
        guard !a.transposed, inPerGroup > 1, GEMMConv.supports(e) else { return .direct }
        if let x = shapes[step.inputs[0]], let y = shapes[step.output],
           PixelMajorConv.prefers(PlanExecutor.convShape(a, inShape: x, outShape: y), epilogue: e) {
            return .pixelMajorGEMM(PixelMajorConv(weight: weight, bias: bias, epilogue: e, threads: threads))
        }
        return .gemm(GEMMConv(a, weight: weight, bias: bias, epilogue: e, threads: threads))
    }
}
