extension ReferenceKernels {
    /// Direct (grouped, dilated, strided) cross-correlation with per-side zero padding.
    ///
    /// `y[n, o, p] = bias[o] + Σ_c Σ_a w[o, c, a] · xpad[n, g(o)·Cin/groups + c, p·stride + a·dilation]`
    /// where `g(o) = o / (Cout/groups)`. Summed in `Double`: channels ascending, then taps
    /// row-major, then the bias; rounded to `Float` once.
    /// - Parameters:
    ///   - x: `(N, Cin, *spatial)`, spatial rank 1-3.
    ///   - weight: `(Cout, Cin/groups, *kernel)`.
    ///   - bias: `(Cout)`, or `nil` for none.
    ///   - padBegin, padEnd: zeros added before/after each spatial dim; may differ
    ///     (`'same'` with an even kernel puts the extra element at the end).
    /// - Returns: `(N, Cout, *out)` with `out = floor((L + pb + pe - d(k-1) - 1) / s) + 1`.
    static func conv(
        _ x: Tensor, weight: Tensor, bias: Tensor?, stride: [Int], dilation: [Int],
        padBegin: [Int], padEnd: [Int], groups: Int
    ) -> Tensor {
        let inSize = spatialShape(x)
        let (batch, cin) = (x.shape[0], x.shape[1])
        let (cout, cinPerGroup) = (weight.shape[0], weight.shape[1])
        let kernel = Array(weight.shape.dropFirst(2))
        precondition(weight.rank == x.rank, "conv: weight \(weight.shape) does not match input \(x.shape)")
        precondition(groups >= 1 && cin == cinPerGroup * groups && cout % groups == 0,
                     "conv: groups=\(groups) inconsistent with input \(x.shape), weight \(weight.shape)")
        precondition(bias == nil || bias?.shape == [cout], "conv: bias must have shape [\(cout)]")
        precondition([stride, dilation, padBegin, padEnd].allSatisfy { $0.count == inSize.count },
                     "conv: stride/dilation/padding need one entry per spatial dim")
        let outSize = inSize.indices.map {
            slidingCount(size: inSize[$0], padBegin: padBegin[$0], padEnd: padEnd[$0],
                         kernel: kernel[$0], stride: stride[$0], dilation: dilation[$0])
        }
        let window = Window(image: inSize, kernel: kernel, stride: stride, dilation: dilation,
                            padBegin: padBegin, positions: outSize)
        let coutPerGroup = cout / groups
        return makeTensor([batch, cout] + outSize) { y in
            x.data.withUnsafeBufferPointer { xs in
                weight.data.withUnsafeBufferPointer { ws in
                    for n in 0..<batch {
                        for o in 0..<cout {
                            let firstChannel = (o / coutPerGroup) * cinPerGroup
                            let biasValue = bias.map { Double($0.data[o]) } ?? 0
                            let yBase = (n * cout + o) * window.positionCount
                            window.forEachPosition { p, od, oh, ow in
                                var sum = 0.0
                                for c in 0..<cinPerGroup {
                                    let xBase = (n * cin + firstChannel + c) * window.imageCount
                                    let wBase = (o * cinPerGroup + c) * window.kernelCount
                                    window.forEachTap(od, oh, ow) { tap, offset in
                                        sum += Double(ws[wBase + tap]) * Double(xs[xBase + offset])
                                    }
                                }
                                y[yBase + p] = Float(sum + biasValue)
                            }
                        }
                    }
                }
            }
        }
    }
}
