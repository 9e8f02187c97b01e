extension ReferenceKernels {
    /// Elementwise `max(x, 0)`; NaN propagates, as in `torch.relu`.
    static func relu(_ x: Tensor) -> Tensor {
        Tensor(shape: x.shape, data: x.data.map { $0 > 0 || $0.isNaN ? $0 : 0 })
    }

    /// Any `Activation`, elementwise, through `Activation.apply` (PyTorch's CPU formulas in float32).
    static func activation(_ x: Tensor, _ activation: Activation) -> Tensor {
        Tensor(shape: x.shape, data: x.data.map(activation.apply))
    }

    /// Elementwise sum with NumPy/PyTorch broadcasting (shapes already checked by shape inference).
    static func add(_ a: Tensor, _ b: Tensor) -> Tensor {
        if a.shape == b.shape {
            return Tensor(shape: a.shape, data: zip(a.data, b.data).map { $0 + $1 })
        }
        let rank = max(a.rank, b.rank)
        let shapeA = [Int](repeating: 1, count: rank - a.rank) + a.shape
        let shapeB = [Int](repeating: 1, count: rank - b.rank) + b.shape
        let shape = zip(shapeA, shapeB).map { $0 == 1 ? $1 : $0 }
        let stridesA = DirectElementwise.broadcastStrides(shapeA, to: shape)
        let stridesB = DirectElementwise.broadcastStrides(shapeB, to: shape)
        var index = [Int](repeating: 0, count: rank)
        var data = [Float](repeating: 0, count: shape.reduce(1, *))
        for i in data.indices {
            var offsetA = 0, offsetB = 0
            for d in 0..<rank {
                offsetA += index[d] * stridesA[d]
                offsetB += index[d] * stridesB[d]
            }
            data[i] = a.data[offsetA] + b.data[offsetB]
            // Advance the row-major multi-index.
            var d = rank - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < shape[d] { break }
                index[d] = 0
                d -= 1
            }
        }
        return Tensor(shape: shape, data: data)
    }
}
