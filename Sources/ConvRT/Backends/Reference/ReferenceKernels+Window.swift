extension ReferenceKernels {
    /// One sliding-window geometry, lifted to 3-D (see `ReferenceKernels`), shared by conv,
    /// transposed conv, unfold and fold.
    ///
    /// It relates a *window position* `o` (a conv output / Unfold block) and a kernel tap `a`
    /// to the *image* coordinate `o*stride - padBegin + a*dilation` per dim. Conv and Unfold
    /// gather from the image; ConvTranspose and Fold scatter into it.
    struct Window {
        let imageD: Int, imageH: Int, imageW: Int
        let kernelD: Int, kernelH: Int, kernelW: Int
        let strideD: Int, strideH: Int, strideW: Int
        let dilationD: Int, dilationH: Int, dilationW: Int
        let padD: Int, padH: Int, padW: Int
        let positionsD: Int, positionsH: Int, positionsW: Int

        /// All lists have one entry per spatial dim (1-3), outermost first.
        /// - Parameters:
        ///   - image: the size of the image grid (conv input, ConvTranspose output).
        ///   - positions: the number of window positions (conv output, ConvTranspose input).
        init(image: [Int], kernel: [Int], stride: [Int], dilation: [Int], padBegin: [Int], positions: [Int]) {
            let rank = image.count
            precondition([kernel, stride, dilation, padBegin, positions].allSatisfy { $0.count == rank },
                         "window lists must all have \(rank) entries")
            let (i, k) = (lift3(image, fill: 1), lift3(kernel, fill: 1))
            let (s, d) = (lift3(stride, fill: 1), lift3(dilation, fill: 1))
            let (p, o) = (lift3(padBegin, fill: 0), lift3(positions, fill: 1))
            (imageD, imageH, imageW) = (i[0], i[1], i[2])
            (kernelD, kernelH, kernelW) = (k[0], k[1], k[2])
            (strideD, strideH, strideW) = (s[0], s[1], s[2])
            (dilationD, dilationH, dilationW) = (d[0], d[1], d[2])
            (padD, padH, padW) = (p[0], p[1], p[2])
            (positionsD, positionsH, positionsW) = (o[0], o[1], o[2])
        }

        /// Elements in one image plane.
        var imageCount: Int { imageD * imageH * imageW }
        /// Taps in one kernel.
        var kernelCount: Int { kernelD * kernelH * kernelW }
        /// Window positions in one plane.
        var positionCount: Int { positionsD * positionsH * positionsW }

        /// Calls `body(index, od, oh, ow)` for every window position in row-major order;
        /// `index` is the flat row-major position index.
        @inline(__always)
        func forEachPosition(_ body: (Int, Int, Int, Int) -> Void) {
            var index = 0
            for od in 0..<positionsD {
                for oh in 0..<positionsH {
                    for ow in 0..<positionsW {
                        body(index, od, oh, ow)
                        index += 1
                    }
                }
            }
        }

        /// Calls `body(tap, imageOffset)` for every kernel tap of the window at `(od, oh, ow)`
        /// that lands inside the image (taps in the padding are skipped: they read zeros),
        /// in row-major tap order. `tap` is the flat kernel index, `imageOffset` the flat
        /// offset within one image plane.
        @inline(__always)
        func forEachTap(_ od: Int, _ oh: Int, _ ow: Int, _ body: (Int, Int) -> Void) {
            for a in 0..<kernelD {
                let id = od * strideD - padD + a * dilationD
                guard id >= 0 && id < imageD else { continue }
                for b in 0..<kernelH {
                    let ih = oh * strideH - padH + b * dilationH
                    guard ih >= 0 && ih < imageH else { continue }
                    for c in 0..<kernelW {
                        let iw = ow * strideW - padW + c * dilationW
                        guard iw >= 0 && iw < imageW else { continue }
                        body((a * kernelH + b) * kernelW + c, (id * imageH + ih) * imageW + iw)
                    }
                }
            }
        }
    }
}
