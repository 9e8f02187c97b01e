/// The reference executor's kernels: the oracle every fast backend is tested against.
///
/// Plain direct loops over batched float32 tensors laid out `(N, C, *spatial)` in row-major
/// order (NCL / NCHW / NCDHW), reproducing PyTorch's semantics exactly
/// (see `docs/conv-semantics.md`, sections 1-3).
///
/// Conventions shared by every kernel:
/// - **One N-d implementation.** Spatial rank 1, 2 and 3 all run the same 3-D loops: a 1-D or
///   2-D problem is lifted to 3-D by prepending unit dims (size 1, kernel 1, stride 1,
///   dilation 1, padding 0), which changes neither the result nor the memory layout.
/// - **Accumulation in `Double`**, in a fixed order, rounded to `Float` once per output
///   element. Conv sums over input channels (ascending), and within a channel over kernel taps in
///   row-major order, then adds the bias. This keeps the oracle within half an ulp of the exact
///   result, so comparisons measure the fast backend's error, not the oracle's.
/// - Arguments are already validated by shape inference; inconsistent shapes are programmer
///   errors and trap via `precondition`.
enum ReferenceKernels {}

extension ReferenceKernels {
    /// Lifts a per-spatial-dim list (1-3 entries) to exactly three by prepending `fill`.
    static func lift3(_ values: [Int], fill: Int) -> [Int] {
        precondition((1...3).contains(values.count), "spatial rank must be 1, 2 or 3, got \(values.count)")
        return [Int](repeating: fill, count: 3 - values.count) + values
    }

    /// The spatial dims of a batched tensor `(N, C, *spatial)`.
    static func spatialShape(_ t: Tensor) -> [Int] {
        precondition(t.rank >= 3, "expected a batched (N, C, *spatial) tensor, got shape \(t.shape)")
        return Array(t.shape.dropFirst(2))
    }

    /// The number of sliding positions along one dim:
    /// `floor((size + padBegin + padEnd - dilation*(kernel-1) - 1) / stride) + 1`.
    static func slidingCount(
        size: Int, padBegin: Int, padEnd: Int, kernel: Int, stride: Int, dilation: Int
    ) -> Int {
        let span = size + padBegin + padEnd - dilation * (kernel - 1) - 1
        precondition(span >= 0 && stride > 0, "window does not fit: size \(size), kernel \(kernel), dilation \(dilation)")
        return span / stride + 1
    }

    /// Builds a tensor of `shape` by letting `fill` write every element of a zeroed buffer.
    static func makeTensor(_ shape: [Int], _ fill: (UnsafeMutableBufferPointer<Float>) -> Void) -> Tensor {
        var data = [Float](repeating: 0, count: shape.reduce(1, *))
        data.withUnsafeMutableBufferPointer { fill($0) }
        return Tensor(shape: shape, data: data)
    }
}
