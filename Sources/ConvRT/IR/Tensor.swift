/// A dense float32 tensor in row-major (C) order: NCHW / NCDHW for activations.
///
/// `Tensor` is a value type; copies share storage until one is mutated.
public struct Tensor: Equatable, Sendable {
    /// The size of each dimension, outermost first.
    public var shape: [Int]
    /// The elements in row-major order; `data.count == shape.reduce(1, *)`.
    public var data: [Float]

    /// Creates a tensor from a shape and matching row-major data.
    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(data.count == shape.reduce(1, *), "data count \(data.count) does not match shape \(shape)")
        self.shape = shape
        self.data = data
    }

    /// Creates a tensor of the given shape filled with `value`.
    public init(zeros shape: [Int], value: Float = 0) {
        self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// The number of elements.
    public var count: Int { data.count }

    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// Returns the same data viewed with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }
}

extension Array where Element == Int {
    /// PyTorch-style rendering of a shape or int list: `[1, 3, 5, 5]`.
    var bracketed: String { "[" + map(String.init).joined(separator: ", ") + "]" }
}
