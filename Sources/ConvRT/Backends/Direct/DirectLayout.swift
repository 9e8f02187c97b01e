/// Data-movement kernels on raw buffers: padding with a mode, Unfold and Fold.
enum DirectLayout {
    /// Pads (or, for negative amounts, crops) the spatial dims of `(planes, *image)` into `out`.
    static func pad(_ x: UnsafePointer<Float>, planes: Int, image: [Int], begin: [Int], end: [Int],
                    mode: ConvAttributes.PaddingMode, out: UnsafeMutablePointer<Float>) {
        let rank = image.count
        let lifted = [Int](repeating: 1, count: 3 - rank) + image
        let b = [Int](repeating: 0, count: 3 - rank) + begin
        let e = [Int](repeating: 0, count: 3 - rank) + end
        let outSize = (0..<3).map { lifted[$0] + b[$0] + e[$0] }
        // Source coordinate of each output coordinate per dim; -1 reads a zero.
        let maps = (0..<3).map { axis in
            (0..<outSize[axis]).map { ReferenceKernels.padSource($0 - b[axis], size: lifted[axis], mode: mode) }
        }
        let inPlane = lifted.reduce(1, *)
        var o = 0
        for p in 0..<planes {
            let src = x + p * inPlane
            for sd in maps[0] {
                for sh in maps[1] {
                    let row = src + (sd * lifted[1] + sh) * lifted[2]
                    let rowValid = sd >= 0 && sh >= 0
                    for sw in maps[2] {
                        out[o] = rowValid && sw >= 0 ? row[sw] : 0
                        o += 1
                    }
                }
            }
        }
    }

    /// `(N, C, H, W) -> (N, C*kh*kw, L)`; row `c*kh*kw + ki*kw + kj`, blocks row-major.
    static func unfold(_ x: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int,
                       window w: SlidingWindow, out: UnsafeMutablePointer<Float>) {
        let bh = w.blocks(along: 0, size: height), bw = w.blocks(along: 1, size: width)
        let (kh, kw) = (w.kernelSize[0], w.kernelSize[1])
        var o = 0
        for n in 0..<batch {
            for c in 0..<channels {
                let plane = x + (n * channels + c) * height * width
                for ki in 0..<kh {
                    for kj in 0..<kw {
                        for by in 0..<bh {
                            let ih = by * w.stride[0] - w.padding[0] + ki * w.dilation[0]
                            for bx in 0..<bw {
                                let iw = bx * w.stride[1] - w.padding[1] + kj * w.dilation[1]
                                let inside = ih >= 0 && ih < height && iw >= 0 && iw < width
                                out[o] = inside ? plane[ih * width + iw] : 0
                                o += 1
                            }
                        }
                    }
                }
            }
        }
    }

    /// `(N, C*kh*kw, L) -> (N, C, H, W)`, summing overlapping blocks.
    static func fold(_ x: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int,
                     window w: SlidingWindow, out: UnsafeMutablePointer<Float>) {
        let bh = w.blocks(along: 0, size: height), bw = w.blocks(along: 1, size: width)
        let (kh, kw) = (w.kernelSize[0], w.kernelSize[1])
        out.update(repeating: 0, count: batch * channels * height * width)
        var i = 0
        for n in 0..<batch {
            for c in 0..<channels {
                let plane = out + (n * channels + c) * height * width
                for ki in 0..<kh {
                    for kj in 0..<kw {
                        for by in 0..<bh {
                            let ih = by * w.stride[0] - w.padding[0] + ki * w.dilation[0]
                            for bx in 0..<bw {
                                let iw = bx * w.stride[1] - w.padding[1] + kj * w.dilation[1]
                                if ih >= 0 && ih < height && iw >= 0 && iw < width { plane[ih * width + iw] += x[i] }
                                i += 1
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Elementwise and per-channel kernels on raw buffers. Each may run in place (`out == x`).
enum DirectElementwise {
    static func activation(_ a: Activation, _ x: UnsafePointer<Float>, count: Int, out: UnsafeMutablePointer<Float>) {
        if case .relu = a {
            for i in 0..<count { let v = x[i]; out[i] = v > 0 || v.isNaN ? v : 0 }
        } else {
            for i in 0..<count { out[i] = a.apply(x[i]) }
        }
    }

    /// `out[n, c, p] = x[n, c, p] * scale[c] + shift[c]` over `(batch, channels, plane)`.
    static func channelAffine(_ x: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
                              scale: [Float], shift: [Float], out: UnsafeMutablePointer<Float>) {
        for n in 0..<batch {
            for c in 0..<channels {
                let base = (n * channels + c) * plane
                let (a, b) = (scale[c], shift[c])
                for i in base..<(base + plane) { out[i] = x[i] * a + b }
            }
        }
    }

    /// BatchNorm with the batch's own statistics (biased variance over batch and spatial dims).
    static func batchStatisticsNorm(_ x: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int, eps: Double,
                                    weight: [Float]?, bias: [Float]?, out: UnsafeMutablePointer<Float>) {
        let count = Double(batch * plane)
        for c in 0..<channels {
            var sum = 0.0, squares = 0.0
            for n in 0..<batch {
                let base = (n * channels + c) * plane
                for i in base..<(base + plane) { sum += Double(x[i]) }
            }
            let mean = count > 0 ? sum / count : 0
            for n in 0..<batch {
                let base = (n * channels + c) * plane
                for i in base..<(base + plane) { let d = Double(x[i]) - mean; squares += d * d }
            }
            let invStd = 1 / ((count > 0 ? squares / count : 0) + eps).squareRoot()
            let scale = Float(Double(weight?[c] ?? 1) * invStd)
            let shift = Float(Double(bias?[c] ?? 0) - mean * Double(weight?[c] ?? 1) * invStd)
            for n in 0..<batch {
                let base = (n * channels + c) * plane
                for i in base..<(base + plane) { out[i] = x[i] * scale + shift }
            }
        }
    }

    /// Broadcasting sum of `a` (shape `shapeA`) and `b` into `out` (shape `shape`), then `then`.
    static func add(_ a: UnsafePointer<Float>, shapeA: [Int], _ b: UnsafePointer<Float>, shapeB: [Int],
                    shape: [Int], then: Activation?, out: UnsafeMutablePointer<Float>) {
        let count = shape.reduce(1, *)
        if shapeA == shape && shapeB == shape {
            for i in 0..<count { out[i] = a[i] + b[i] }
        } else {
            let sa = broadcastStrides(shapeA, to: shape), sb = broadcastStrides(shapeB, to: shape)
            var index = [Int](repeating: 0, count: shape.count)
            for i in 0..<count {
                var oa = 0, ob = 0
                for d in shape.indices { oa += index[d] * sa[d]; ob += index[d] * sb[d] }
                out[i] = a[oa] + b[ob]
                var d = shape.count - 1
                while d >= 0 {
                    index[d] += 1
                    if index[d] < shape[d] { break }
                    index[d] = 0
                    d -= 1
                }
            }
        }
        if let then { activation(then, out, count: count, out: out) }
    }

    /// Row-major strides of `shape` right-aligned to `target`, 0 along broadcast dims.
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: target.count - shape.count) + shape
        var strides = [Int](repeating: 0, count: target.count)
        var running = 1
        for d in padded.indices.reversed() {
            strides[d] = padded[d] == 1 && target[d] != 1 ? 0 : running
            running *= padded[d]
        }
        return strides
    }
}
