extension ReferenceKernels {
    /// BatchNorm in inference mode on `(N, C, *spatial)` (any number of spatial dims, also none).
    ///
    /// Computed as PyTorch's CPU kernel does (`batch_norm_kernel.cpp`), in float32: per channel
    /// `alpha = invstd * weight`, `beta = bias - mean * alpha`, then `y = x * alpha + beta`, with
    /// `invstd = 1 / sqrt(running_var + eps)`. The two multiply-adds are fused, as the compiler
    /// fuses them in PyTorch's x86 builds: the result is then bit-for-bit PyTorch's (checked
    /// against torch 2.15), and more accurate than unfused. This is the one kernel that does not
    /// accumulate in `Double`: PyTorch's own rounding is what users compare against.
    ///
    /// - Parameters:
    ///   - mean: `running_mean`, or `nil` to normalize with the batch's statistics (mean and biased
    ///     variance over N and the spatial dims), as PyTorch does without running stats.
    ///   - variance: `running_var`; `nil` exactly when `mean` is.
    ///   - weight: the affine weight, or `nil` for 1.
    ///   - bias: the affine bias, or `nil` for 0.
    static func batchNorm(
        _ x: Tensor, mean: [Float]?, variance: [Float]?, weight: [Float]?, bias: [Float]?, eps: Double
    ) -> Tensor {
        precondition(x.rank >= 2, "expected (N, C, *spatial), got shape \(x.shape)")
        let batch = x.shape[0], channels = x.shape[1]
        let image = x.shape.dropFirst(2).reduce(1, *)
        guard x.count > 0 else { return x }
        let (means, invstds): ([Float], [Float])
        if let mean, let variance {
            means = mean
            invstds = variance.map { 1 / ($0 + Float(eps)).squareRoot() }
        } else {
            (means, invstds) = batchStatistics(x, batch: batch, channels: channels, image: image, eps: eps)
        }
        var alpha = [Float](repeating: 0, count: channels), beta = alpha
        for c in 0..<channels {
            alpha[c] = invstds[c] * (weight?[c] ?? 1)
            beta[c] = (bias?[c] ?? 0).addingProduct(-means[c], alpha[c])
        }
        return makeTensor(x.shape) { out in
            x.data.withUnsafeBufferPointer { input in
                for n in 0..<batch {
                    for c in 0..<channels {
                        let base = (n * channels + c) * image
                        for i in base..<(base + image) { out[i] = beta[c].addingProduct(input[i], alpha[c]) }
                    }
                }
            }
        }
    }

    /// Per-channel mean and `1 / sqrt(var + eps)` with the biased variance, rounded as
    /// `batch_norm_cpu_collect_stats_contiguous_impl` and `batch_norm_cpu_update_stats_template`
    /// do: sums in `Double`, the mean and the variance sum stored as `Float`.
    private static func batchStatistics(
        _ x: Tensor, batch: Int, channels: Int, image: Int, eps: Double
    ) -> (mean: [Float], invstd: [Float]) {
        let count = batch * image
        var means = [Float](repeating: 0, count: channels), invstds = means
        x.data.withUnsafeBufferPointer { input in
            for c in 0..<channels {
                var sum = 0.0
                for n in 0..<batch {
                    let base = (n * channels + c) * image
                    for i in base..<(base + image) { sum += Double(input[i]) }
                }
                let mean = Float(sum / Double(count))
                var squares = 0.0
                for n in 0..<batch {
                    let base = (n * channels + c) * image
                    for i in base..<(base + image) {
                        let d = input[i] - mean
                        squares += Double(d * d)
                    }
                }
                let variance = Float(squares) / Float(count)
                means[c] = mean
                invstds[c] = Float(1 / (Double(variance) + eps).squareRoot())
            }
        }
        return (means, invstds)
    }
}
