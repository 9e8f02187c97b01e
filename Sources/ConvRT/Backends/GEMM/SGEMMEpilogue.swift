import CKernels

/// What the SGEMM applies to each output tile while it is still in registers:
/// `v = alpha * (A*B)`, `+ C` when `accumulate`, `+ bias[row]`, `+ residual[row][col]`,
/// then `C = activation(v)`.
///
/// Layout: the bias holds one float per row of C (per output channel); the residual is
/// `[m x n]` row-major with row stride `residualStride` and must not overlap C.
/// The pointers must stay valid for the duration of the multiply.
public struct SGEMMEpilogue {
    /// The last step of the epilogue.
    public enum Activation: Equatable, Sendable {
        case none
        /// `max(x, 0)`; NaN propagates and `-0` becomes `+0`, as in `torch.relu`.
        case relu
        /// `min(max(x, min), max)` (`relu6`: 0, 6); NaN propagates.
        case clamp(min: Float, max: Float)
        /// `x > 0 ? x : x * slope`.
        case leakyReLU(slope: Float)
    }

    public var alpha: Float
    public var accumulate: Bool
    public var bias: UnsafePointer<Float>?
    public var residual: UnsafePointer<Float>?
    public var residualStride: Int
    public var activation: Activation

    public init(alpha: Float = 1, accumulate: Bool = false, bias: UnsafePointer<Float>? = nil,
                residual: UnsafePointer<Float>? = nil, residualStride: Int = 0,
                activation: Activation = .none) {
        self.alpha = alpha
        self.accumulate = accumulate
        self.bias = bias
        self.residual = residual
        self.residualStride = residualStride
        self.activation = activation
    }

    var cValue: convrt_sgemm_epilogue {
        var e = convrt_sgemm_epilogue()
        e.alpha = alpha
        e.accumulate = accumulate ? 1 : 0
        e.bias = bias
        e.residual = residual
        e.ldr = residualStride
        switch activation {
        case .none: e.activation = Int32(CONVRT_ACT_NONE.rawValue)
        case .relu: e.activation = Int32(CONVRT_ACT_RELU.rawValue)
        case let .clamp(lo, hi):
            e.activation = Int32(CONVRT_ACT_CLAMP.rawValue)
            e.lo = lo
            e.hi = hi
        case let .leakyReLU(slope):
            e.activation = Int32(CONVRT_ACT_LEAKY_RELU.rawValue)
            e.slope = slope
        }
        return e
    }
}
