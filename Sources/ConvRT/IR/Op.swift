/// The closed set of operations. Adding a case makes the compiler list every
/// `switch` that must learn about it (shape inference, executor, serialization, DSL).
public enum Op: Hashable, Sendable {
    /// Conv1d/2d/3d, ConvTranspose1d/2d/3d and their Lazy forms.
    case conv(ConvAttributes)
    /// `nn.Unfold`: sliding local blocks `(N, C, H, W) -> (N, C*kh*kw, L)`.
    case unfold(SlidingWindow)
    /// `nn.Fold`: sums blocks back `(N, C*kh*kw, L) -> (N, C, *outputSize)`.
    case fold(FoldAttributes)
    /// Elementwise `max(x, 0)`.
    case relu
    /// Elementwise sum of two tensors of the same shape.
    case add

    /// The PyTorch-style layer name: `LazyConvTranspose2d`, `Unfold`, `ReLU`.
    public var displayName: String {
        switch self {
        case .conv(let a): return a.displayName
        case .unfold: return "Unfold"
        case .fold: return "Fold"
        case .relu: return "ReLU"
        case .add: return "Add"
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
