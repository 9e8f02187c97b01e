import Foundation

/// The closed set of operations. Adding a case makes the compiler list every
/// `switch` that must learn about it (shape inference, executor, serialization, DSL).
public enum Op: Hashable, Sendable {
    /// Conv1d/2d/3d, ConvTranspose1d/2d/3d and their Lazy forms.
    case conv(ConvAttributes)
    /// `nn.Unfold`: sliding local blocks `(N, C, H, W) -> (N, C*kh*kw, L)`.
    case unfold(SlidingWindow)
    /// `nn.Fold`: sums blocks back `(N, C*kh*kw, L) -> (N, C, *outputSize)`.
    case fold(FoldAttributes)
    /// An elementwise activation (ReLU, ReLU6, LeakyReLU, Hardtanh, Sigmoid, Tanh, SiLU, Hardswish, GELU).
    case activation(Activation)
    /// Elementwise sum with NumPy/PyTorch broadcasting.
    case add
    /// BatchNorm1d/2d/3d (and Lazy forms) in inference mode.
    case batchNorm(BatchNormAttributes)
    /// `nn.Identity`: passes its input through.
    case identity
    /// MaxPool1d/2d/3d, AvgPool1d/2d/3d.
    case pool(PoolAttributes)
    /// AdaptiveAvgPool/AdaptiveMaxPool 1d/2d/3d, ONNX GlobalAveragePool/GlobalMaxPool.
    case adaptivePool(AdaptivePoolAttributes)
    /// `nn.Linear` over the last dim, weights `(out, in)`.
    case linear(LinearAttributes)
    /// NumPy `matmul` of two values, batch dims broadcast (ONNX MatMul).
    case matmul
    /// Elementwise `-`, `*`, `/` with broadcasting.
    case binary(BinaryOperator)
    /// Concatenation of all operands along `axis`.
    case concat(axis: Int)
    /// `nn.Flatten(start_dim, end_dim)` (ONNX Flatten is `startDim: axis` then a 2-D view).
    case flatten(startDim: Int, endDim: Int)
    /// ONNX Reshape with a constant target shape.
    case reshape(ReshapeAttributes)
    /// Permutes the dims: output dim `i` is input dim `permutation[i]`.
    case transpose(permutation: [Int])
    /// Removes the listed size-1 dims.
    case squeeze(axes: [Int])
    /// Inserts size-1 dims at the listed output positions.
    case unsqueeze(axes: [Int])
    case slice(SliceAttributes)
    case gather(GatherAttributes)
    /// ZeroPad/ConstantPad/ReflectionPad/ReplicationPad/CircularPad 1d/2d/3d, ONNX Pad.
    case pad(PadAttributes)
    /// `nn.Upsample`, ONNX Resize/Upsample.
    case resize(ResizeAttributes)
    /// Softmax (or LogSoftmax when `log`) along `axis`.
    case softmax(axis: Int, log: Bool)
    /// Mean over `axes` (ONNX ReduceMean).
    case reduceMean(axes: [Int], keepDims: Bool)
    /// A constant tensor of this shape, stored as the parameter `<node>.value` (ONNX Constant).
    case constant(shape: [Int])

    /// The PyTorch-style layer name: `LazyConvTranspose2d`, `Unfold`, `ReLU`.
    public var displayName: String {
        switch self {
        case .conv(let a): return a.displayName
        case .unfold: return "Unfold"
        case .fold: return "Fold"
        case .activation(let a): return a.displayName
        case .add: return "Add"
        case .batchNorm(let b): return (b.isLazy ? "Lazy" : "") + "BatchNorm\(b.spatialRank)d"
        case .identity: return "Identity"
        case .pool(let p): return (p.kind == .max ? "MaxPool" : "AvgPool") + "\(p.spatialRank)d"
        case .adaptivePool(let p): return "Adaptive" + (p.kind == .max ? "Max" : "Avg") + "Pool\(p.spatialRank)d"
        case .linear(let l): return (l.isLazy ? "Lazy" : "") + "Linear"
        case .matmul: return "MatMul"
        case .binary(let b): return b.rawValue.prefix(1).uppercased() + b.rawValue.dropFirst()
        case .concat: return "Concat"
        case .flatten: return "Flatten"
        case .reshape: return "Reshape"
        case .transpose: return "Transpose"
        case .squeeze: return "Squeeze"
        case .unsqueeze: return "Unsqueeze"
        case .slice: return "Slice"
        case .gather: return "Gather"
        case .pad(let p):
            let name = ["constant": "ConstantPad", "reflect": "ReflectionPad", "replicate": "ReplicationPad", "circular": "CircularPad"]
            return (name[p.mode.rawValue] ?? "Pad") + "\(p.begin.count)d"
        case .resize: return "Upsample"
        case .softmax(_, let log): return log ? "LogSoftmax" : "Softmax"
        case .reduceMean: return "ReduceMean"
        case .constant: return "Constant"
        }
    }
}

/// Attributes shared by every convolution flavour, named as in `torch.nn`.
///
/// Lists (`kernelSize`, `stride`, ...) always have `spatialRank` entries: the DSL
/// broadcasts a single integer the way PyTorch's `_pair`/`_triple` do.
public struct ConvAttributes: Hashable, Sendable {
    /// How `padding` was given.
    public enum Padding: Hashable, Sendable {
        /// Per-dimension symmetric padding.
        case explicit([Int])
        /// `"same"`: total `d*(k-1)`, the extra element at the end. Stride must be 1.
        case same
        /// `"valid"`: no padding.
        case valid
    }

    /// How a non-transposed convolution fills its padding.
    public enum PaddingMode: String, Hashable, Sendable, CaseIterable {
        case zeros, reflect, replicate, circular
    }

    /// 1, 2 or 3.
    public var spatialRank: Int
    /// `true` for ConvTranspose.
    public var transposed: Bool
    /// `true` for the Lazy forms; `inChannels` is then filled in by shape inference.
    public var isLazy: Bool
    /// Input channels; `nil` only for a Lazy layer shape inference has not resolved yet.
    public var inChannels: Int?
    public var outChannels: Int
    public var kernelSize: [Int]
    public var stride: [Int]
    public var padding: Padding
    public var dilation: [Int]
    public var groups: Int
    public var hasBias: Bool
    public var paddingMode: PaddingMode
    /// ConvTranspose only; all zeros otherwise.
    public var outputPadding: [Int]
    /// ConvTranspose only: the requested output size, spatial dims or all dims,
    /// as PyTorch's `forward(input, output_size=...)` takes it.
    public var outputSize: [Int]?

    public init(
        spatialRank: Int, transposed: Bool = false, isLazy: Bool = false,
        inChannels: Int?, outChannels: Int, kernelSize: [Int],
        stride: [Int]? = nil, padding: Padding? = nil, dilation: [Int]? = nil,
        groups: Int = 1, hasBias: Bool = true, paddingMode: PaddingMode = .zeros,
        outputPadding: [Int]? = nil, outputSize: [Int]? = nil
    ) {
        let ones = [Int](repeating: 1, count: spatialRank)
        let zeros = [Int](repeating: 0, count: spatialRank)
        self.spatialRank = spatialRank
        self.transposed = transposed
        self.isLazy = isLazy
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride ?? ones
        self.padding = padding ?? .explicit(zeros)
        self.dilation = dilation ?? ones
        self.groups = groups
        self.hasBias = hasBias
        self.paddingMode = paddingMode
        self.outputPadding = outputPadding ?? zeros
        self.outputSize = outputSize
    }

    /// `Conv2d`, `LazyConvTranspose3d`, ...
    public var displayName: String {
        (isLazy ? "Lazy" : "") + (transposed ? "ConvTranspose" : "Conv") + "\(spatialRank)d"
    }
}

/// The sliding-window parameters of Unfold and Fold (always two spatial dims).
public struct SlidingWindow: Hashable, Sendable {
    public var kernelSize: [Int]
    public var dilation: [Int]
    public var padding: [Int]
    public var stride: [Int]

    public init(kernelSize: [Int], dilation: [Int] = [1, 1], padding: [Int] = [0, 0], stride: [Int] = [1, 1]) {
        self.kernelSize = kernelSize
        self.dilation = dilation
        self.padding = padding
        self.stride = stride
    }
}

/// Fold's attributes: the output's spatial size and the sliding window.
public struct FoldAttributes: Hashable, Sendable {
    public var outputSize: [Int]
    public var window: SlidingWindow

    public init(outputSize: [Int], window: SlidingWindow) {
        self.outputSize = outputSize
        self.window = window
    }
}

/// Elementwise activations, with PyTorch's names and parameters.
public enum Activation: Hashable, Sendable {
    case relu
    /// `min(max(x, 0), 6)`.
    case relu6
    /// `x if x >= 0 else negativeSlope * x` (PyTorch default slope 0.01).
    case leakyReLU(negativeSlope: Float)
    /// `min(max(x, minValue), maxValue)` (PyTorch defaults -1, 1).
    case hardtanh(minValue: Float, maxValue: Float)
    case sigmoid
    case tanh
    /// `x * sigmoid(x)`.
    case silu
    /// `x * relu6(x + 3) / 6`.
    case hardswish
    /// `max(0, min(1, alpha * x + beta))` (ONNX HardSigmoid; PyTorch's Hardsigmoid is alpha 1/6, beta 0.5).
    case hardSigmoid(alpha: Float, beta: Float)
    /// GELU, exact (`0.5x(1+erf(x/sqrt 2))`) or with `approximate="tanh"`.
    case gelu(approximateTanh: Bool)

    /// The PyTorch module name: `ReLU6`, `LeakyReLU`, `GELU`.
    public var displayName: String {
        switch self {
        case .relu: return "ReLU"
        case .relu6: return "ReLU6"
        case .leakyReLU: return "LeakyReLU"
        case .hardtanh: return "Hardtanh"
        case .sigmoid: return "Sigmoid"
        case .tanh: return "Tanh"
        case .silu: return "SiLU"
        case .hardswish: return "Hardswish"
        case .hardSigmoid: return "Hardsigmoid"
        case .gelu: return "GELU"
        }
    }

    /// Applies the activation to one value, in Float, with the formulas (and operation order) of
    /// PyTorch's CPU kernels (`aten/src/ATen/native/cpu/Activation.cpp`, `UnaryOpsKernel.cpp`).
    /// NaN propagates through every case.
    public func apply(_ x: Float) -> Float {
        switch self {
        case .relu: return x > 0 || x.isNaN ? x : 0
        case .relu6: return x.isNaN ? x : Swift.min(Swift.max(x, 0), 6)
        case .leakyReLU(let slope): return x > 0 ? x : x * slope
        case .hardtanh(let lo, let hi): return x.isNaN ? x : Swift.min(Swift.max(x, lo), hi)
        case .sigmoid: return 1 / (1 + exp(-x))
        case .tanh: return Foundation.tanh(x)
        case .silu: return x / (1 + exp(-x))
        case .hardswish: return x.isNaN ? x : x * Swift.min(Swift.max(x + 3, 0), 6) / 6
        case .hardSigmoid(let alpha, let beta): return x.isNaN ? x : Swift.max(0, Swift.min(1, alpha * x + beta))
        case .gelu(let approximate):
            if approximate {
                // kBeta = sqrt(2) * (2 / sqrt(pi)) * 0.5, kKappa = 0.044715.
                let cube = x * x * x
                let inner: Float = 0.7978845608028654 * (x + 0.044715 * cube)
                return 0.5 * x * (1 + Foundation.tanh(inner))
            }
            return x * 0.5 * (1 + erf(x * 0.7071067811865476))
        }
    }
}

/// BatchNorm's attributes, named as in `torch.nn.BatchNorm2d` (momentum is a training-only knob).
public struct BatchNormAttributes: Hashable, Sendable {
    /// 1 (BatchNorm1d: `(N, C)` or `(N, C, L)`), 2 or 3.
    public var spatialRank: Int
    public var isLazy: Bool
    /// `num_features`; `nil` only for a Lazy layer shape inference has not resolved yet.
    public var numFeatures: Int?
    public var eps: Double
    /// Whether there are learnable `weight` and `bias`.
    public var affine: Bool
    /// With running stats, inference normalises with them; without, with the batch's own statistics.
    public var trackRunningStats: Bool

    public init(spatialRank: Int, isLazy: Bool = false, numFeatures: Int?, eps: Double = 1e-5,
                affine: Bool = true, trackRunningStats: Bool = true) {
        self.spatialRank = spatialRank
        self.isLazy = isLazy
        self.numFeatures = numFeatures
        self.eps = eps
        self.affine = affine
        self.trackRunningStats = trackRunningStats
    }
}
