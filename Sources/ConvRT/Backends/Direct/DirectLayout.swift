import CKernels

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
    /// Each tap row is copied a block row at a time (`convrt_im2col`).
    static func unfold(_ x: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int,
                       window w: SlidingWindow, out: UnsafeMutablePointer<Float>) {
        var g = foldWindow(w, height: height, width: width)
        let taps = w.kernelSize[0] * w.kernelSize[1], blocks = g.grid.1 * g.grid.2
        for plane in 0..<(batch * channels) {
            convrt_im2col(&g, x + plane * height * width, out + plane * taps * blocks, blocks)
        }
    }

    /// `(N, C*kh*kw, L) -> (N, C, H, W)`, summing overlapping blocks: every image value gathers
    /// its blocks' entries in one pass (`convrt_col2im`), no zero-fill or scatter.
    static func fold(_ x: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int,
                     window w: SlidingWindow, out: UnsafeMutablePointer<Float>) {
        var g = foldWindow(w, height: height, width: width)
        let taps = w.kernelSize[0] * w.kernelSize[1], blocks = g.grid.1 * g.grid.2
        let none = convrt_col2im_activation(kind: Int32(CONVRT_ACT_NONE.rawValue), lo: 0, hi: 0, slope: 0)
        var e = convrt_col2im_epilogue(bias: 0, residual: nil, pre: none, post: none)
        withUnsafeTemporaryAllocation(byteCount: convrt_col2im_workspace_bytes(&g), alignment: 64) { workspace in
            for plane in 0..<(batch * channels) {
                convrt_col2im(&g, x + plane * taps * blocks, blocks, out + plane * height * width, 0, height, &e,
                              workspace.baseAddress!)
            }
        }
    }

    /// The Fold/Unfold window over an `height x width` image, lifted to 3-D; the blocks are the grid.
    private static func foldWindow(_ w: SlidingWindow, height: Int, width: Int) -> convrt_window3d {
        let bh = w.blocks(along: 0, size: height), bw = w.blocks(along: 1, size: width)
        return convrt_window3d(grid: (1, bh, bw), image: (1, height, width), kernel: (1, w.kernelSize[0], w.kernelSize[1]),
                               stride: (1, w.stride[0], w.stride[1]), dilation: (1, w.dilation[0], w.dilation[1]),
                               pad: (0, w.padding[0], w.padding[1]))
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
