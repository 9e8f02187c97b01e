extension ReferenceKernels {
    /// Transposed convolution, written as PyTorch's scatter (`conv-semantics.md` §1):
    ///
    /// `out[n, g·Cout/groups + co, i·stride - padding + a·dilation] += x[n, ci, i] · w[ci, co, a]`
    /// with `g = ci / (Cin/groups)`; targets outside the output are dropped (that is how
    /// `padding` crops, even beyond `d(k-1)`), and positions no input reaches (the
    /// `output_padding` rows) get only the bias. Summed in `Double`: input channels ascending,
    /// then input positions row-major, then taps row-major; the bias is added last and each
    /// output rounded to `Float` once.
    /// - Parameters:
    ///   - x: `(N, Cin, *spatial)`, spatial rank 1-3.
    ///   - weight: `(Cin, Cout/groups, *kernel)`.
    ///   - bias: `(Cout)`, or `nil` for none.
    ///   - padding: symmetric per spatial dim.
    ///   - outputSpatial: the already-resolved output size, `output_padding` included.
    /// - Returns: `(N, Cout, *outputSpatial)`.
    static func convTranspose(
        _ x: Tensor, weight: Tensor, bias: Tensor?, stride: [Int], dilation: [Int],
        padding: [Int], groups: Int, outputSpatial: [Int]
    ) -> Tensor {
        let inSize = spatialShape(x)
        let (batch, cin) = (x.shape[0], x.shape[1])
        let coutPerGroup = weight.shape[1]
        let cout = coutPerGroup * groups
        precondition(weight.rank == x.rank && outputSpatial.count == inSize.count,
                     "convTranspose: weight \(weight.shape) / output \(outputSpatial) do not match input \(x.shape)")
        precondition(groups >= 1 && weight.shape[0] == cin && cin % groups == 0,
                     "convTranspose: groups=\(groups) inconsistent with input \(x.shape), weight \(weight.shape)")
        precondition(bias == nil || bias?.shape == [cout], "convTranspose: bias must have shape [\(cout)]")
        // The image grid is the output here: input positions scatter into it.
        let window = Window(image: outputSpatial, kernel: Array(weight.shape.dropFirst(2)), stride: stride,
                            dilation: dilation, padBegin: padding, positions: inSize)
        let cinPerGroup = cin / groups
        var sums = [Double](repeating: 0, count: batch * cout * window.imageCount)
        x.data.withUnsafeBufferPointer { xs in
            weight.data.withUnsafeBufferPointer { ws in
                sums.withUnsafeMutableBufferPointer { acc in
                    for n in 0..<batch {
                        for ci in 0..<cin {
                            let xBase = (n * cin + ci) * window.positionCount
                            for co in 0..<coutPerGroup {
                                let o = (ci / cinPerGroup) * coutPerGroup + co
                                let outBase = (n * cout + o) * window.imageCount
                                let wBase = (ci * coutPerGroup + co) * window.kernelCount
                                window.forEachPosition { p, id, ih, iw in
                                    let value = Double(xs[xBase + p])
                                    window.forEachTap(id, ih, iw) { tap, offset in
                                        acc[outBase + offset] += value * Double(ws[wBase + tap])
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return makeTensor([batch, cout] + outputSpatial) { y in
            for plane in 0..<(batch * cout) {
                let biasValue = bias.map { Double($0.data[plane % cout]) } ?? 0
                for i in plane * window.imageCount ..< (plane + 1) * window.imageCount {
                    y[i] = Float(sums[i] + biasValue)
                }
            }
        }
    }
}
