extension ReferenceKernels {
    /// Elementwise `max(x, 0)`; NaN propagates, as in `torch.relu`.
    static func relu(_ x: Tensor) -> Tensor {
        Tensor(shape: x.shape, data: x.data.map { $0 > 0 || $0.isNaN ? $0 : 0 })
    }

    /// Elementwise sum of two tensors of the same shape (no broadcasting).
    static func add(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "add: shapes \(a.shape) and \(b.shape) differ")
        return Tensor(shape: a.shape, data: zip(a.data, b.data).map { $0 + $1 })
    }
}
