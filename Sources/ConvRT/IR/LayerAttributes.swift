/// Attributes of the non-convolution layers real networks need (pooling, resizing, padding,
/// dense and tensor-manipulation ops), named after PyTorch's modules and ONNX's operators.
///
/// Axis conventions: every axis and permutation entry counts from the front of the full
/// shape (batch dim included); negative values count from the end, as in PyTorch and ONNX,
/// and are normalised by shape inference.

/// MaxPool1d/2d/3d and AvgPool1d/2d/3d (ONNX MaxPool, AveragePool).
public struct PoolAttributes: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable { case max, average }

    public var kind: Kind
    /// 1, 2 or 3.
    public var spatialRank: Int
    public var kernelSize: [Int]
    /// PyTorch's default is the kernel size.
    public var stride: [Int]
    /// Padding before each spatial dim (PyTorch: symmetric, so equal to `padEnd`).
    public var padBegin: [Int]
    /// Padding after each spatial dim (ONNX allows it to differ from `padBegin`).
    public var padEnd: [Int]
    /// Max pooling only; all ones otherwise.
    public var dilation: [Int]
    /// Output size rounds up instead of down (a window must still start inside the input or the left padding).
    public var ceilMode: Bool
    /// Average pooling only: whether padded positions count in the divisor.
    public var countIncludePad: Bool
    /// Average pooling only: PyTorch's `divisor_override`.
    public var divisorOverride: Int?

    public init(kind: Kind, spatialRank: Int, kernelSize: [Int], stride: [Int]? = nil,
                padBegin: [Int]? = nil, padEnd: [Int]? = nil, dilation: [Int]? = nil,
                ceilMode: Bool = false, countIncludePad: Bool = true, divisorOverride: Int? = nil) {
        let zeros = [Int](repeating: 0, count: spatialRank)
        self.kind = kind
        self.spatialRank = spatialRank
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padBegin = padBegin ?? zeros
        self.padEnd = padEnd ?? padBegin ?? zeros
        self.dilation = dilation ?? [Int](repeating: 1, count: spatialRank)
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
        self.divisorOverride = divisorOverride
    }
}

/// AdaptiveAvgPool1d/2d/3d, AdaptiveMaxPool1d/2d/3d; ONNX GlobalAveragePool/GlobalMaxPool are
/// the output size 1 case.
public struct AdaptivePoolAttributes: Hashable, Sendable {
    public var kind: PoolAttributes.Kind
    public var spatialRank: Int
    /// One entry per spatial dim; `nil` keeps that dim's input size (PyTorch's `None`).
    public var outputSize: [Int?]

    public init(kind: PoolAttributes.Kind, spatialRank: Int, outputSize: [Int?]) {
        self.kind = kind
        self.spatialRank = spatialRank
        self.outputSize = outputSize
    }
}

/// `nn.Linear` / `nn.LazyLinear` (ONNX Gemm with a constant B): `y = x W^T + b` over the last dim.
/// Parameters: `<node>.weight` `(out, in)` and `<node>.bias` `(out)`.
public struct LinearAttributes: Hashable, Sendable {
    public var isLazy: Bool
    /// `nil` only for a Lazy layer shape inference has not resolved yet.
    public var inFeatures: Int?
    public var outFeatures: Int
    public var hasBias: Bool

    public init(isLazy: Bool = false, inFeatures: Int?, outFeatures: Int, hasBias: Bool = true) {
        self.isLazy = isLazy
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.hasBias = hasBias
    }
}

/// Elementwise binary operators with NumPy broadcasting (`Add` has its own `Op.add`, which the
/// planner fuses into convolutions).
public enum BinaryOperator: String, Hashable, Sendable, CaseIterable {
    case sub, mul, div
}

/// ONNX Reshape: `0` copies the input's dim at that index (unless `allowZero`), `-1` is inferred.
public struct ReshapeAttributes: Hashable, Sendable {
    public var shape: [Int]
    public var allowZero: Bool

    public init(shape: [Int], allowZero: Bool = false) {
        self.shape = shape
        self.allowZero = allowZero
    }
}

/// ONNX Slice (all inputs constant): `starts`/`ends` clamped like Python slices, `steps` may be negative.
public struct SliceAttributes: Hashable, Sendable {
    public var starts: [Int]
    public var ends: [Int]
    public var axes: [Int]
    public var steps: [Int]

    public init(starts: [Int], ends: [Int], axes: [Int], steps: [Int]) {
        self.starts = starts
        self.ends = ends
        self.axes = axes
        self.steps = steps
    }
}

/// ONNX Gather with constant indices (negative indices count from the end of `axis`).
public struct GatherAttributes: Hashable, Sendable {
    public var axis: Int
    public var indices: [Int]
    /// The indices tensor's shape (`[]` for a scalar index, which removes `axis`).
    public var indicesShape: [Int]

    public init(axis: Int, indices: [Int], indicesShape: [Int]) {
        self.axis = axis
        self.indices = indices
        self.indicesShape = indicesShape
    }
}

/// Padding of the trailing dims: `nn.ZeroPad2d`, `ReflectionPad1d`, ..., `F.pad`, ONNX Pad.
public struct PadAttributes: Hashable, Sendable {
    public enum Mode: String, Hashable, Sendable, CaseIterable {
        /// ONNX `constant`; PyTorch `ConstantPad*d`/`ZeroPad*d`.
        case constant
        /// ONNX `reflect`; PyTorch `ReflectionPad*d`.
        case reflect
        /// ONNX `edge`; PyTorch `ReplicationPad*d`.
        case replicate
        /// ONNX `wrap`; PyTorch `CircularPad*d`.
        case circular
    }

    public var mode: Mode
    /// Padding before each of the last `begin.count` dims, outermost first (negative crops).
    public var begin: [Int]
    /// Padding after each of the same dims.
    public var end: [Int]
    /// The fill value of `constant` mode.
    public var value: Float

    public init(mode: Mode, begin: [Int], end: [Int], value: Float = 0) {
        self.mode = mode
        self.begin = begin
        self.end = end
        self.value = value
    }
}

/// `nn.Upsample` / `F.interpolate` (nearest, linear, bilinear, trilinear) and ONNX Resize/Upsample
/// over the spatial dims (all dims after the first two).
public struct ResizeAttributes: Hashable, Sendable {
    public enum Mode: String, Hashable, Sendable { case nearest, linear }

    /// How an output coordinate maps back to an input coordinate (ONNX `coordinate_transformation_mode`).
    public enum CoordinateTransform: String, Hashable, Sendable {
        /// `(x + 0.5) / scale - 0.5`.
        case halfPixel
        /// Like `halfPixel`, but 0 when the output length is 1 (PyTorch's linear modes).
        case pytorchHalfPixel
        /// `x * (in - 1) / (out - 1)`.
        case alignCorners
        /// `x / scale` (PyTorch's nearest).
        case asymmetric
    }

    /// How nearest mode rounds the input coordinate (ONNX `nearest_mode`).
    public enum NearestRounding: String, Hashable, Sendable { case floor, ceil, roundPreferFloor, roundPreferCeil }

    public var mode: Mode
    public var coordinateTransform: CoordinateTransform
    public var nearestRounding: NearestRounding
    /// Scale per spatial dim; when given it is also the scale the coordinate mapping uses
    /// (PyTorch with `scale_factor` and `recompute_scale_factor` unset, ONNX `scales`).
    public var scales: [Double]?
    /// Output size per spatial dim (PyTorch `size`, ONNX `sizes`); exactly one of `scales`/`sizes` is set.
    public var sizes: [Int]?

    public init(mode: Mode, coordinateTransform: CoordinateTransform, nearestRounding: NearestRounding = .floor,
                scales: [Double]? = nil, sizes: [Int]? = nil) {
        self.mode = mode
        self.coordinateTransform = coordinateTransform
        self.nearestRounding = nearestRounding
        self.scales = scales
        self.sizes = sizes
    }
}
