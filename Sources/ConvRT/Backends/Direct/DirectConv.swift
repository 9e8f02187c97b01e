/// Geometry of one convolution lifted to 3-D (1-D and 2-D get leading unit dims), in the
/// terms the direct kernels loop over: image (input) size, kernel, output size.
struct ConvShape3D {
    var batch: Int, inChannels: Int, outChannels: Int, groups: Int
    var image: (d: Int, h: Int, w: Int)
    var kernel: (d: Int, h: Int, w: Int)
    var output: (d: Int, h: Int, w: Int)
    var stride: (d: Int, h: Int, w: Int)
    var dilation: (d: Int, h: Int, w: Int)
    /// Padding before each dim (conv), or the transposed conv's symmetric padding.
    var padding: (d: Int, h: Int, w: Int)

    init(batch: Int, inChannels: Int, outChannels: Int, groups: Int, image: [Int], kernel: [Int],
         output: [Int], stride: [Int], dilation: [Int], padding: [Int]) {
        func lift(_ v: [Int], _ fill: Int) -> (Int, Int, Int) {
            let l = [Int](repeating: fill, count: 3 - v.count) + v
            return (l[0], l[1], l[2])
        }
        (self.batch, self.inChannels, self.outChannels, self.groups) = (batch, inChannels, outChannels, groups)
        self.image = lift(image, 1)
        self.kernel = lift(kernel, 1)
        self.output = lift(output, 1)
        self.stride = lift(stride, 1)
        self.dilation = lift(dilation, 1)
        self.padding = lift(padding, 0)
    }

    var imagePlane: Int { image.d * image.h * image.w }
    var outputPlane: Int { output.d * output.h * output.w }
    var kernelVolume: Int { kernel.d * kernel.h * kernel.w }
}

/// Applies bias and a fused epilogue to one accumulated output plane and stores it:
/// `out[i] = post(pre(acc[i] + bias) + residual[i])`. `out` may be `residual` (in place).
@inline(__always)
func storePlane(_ acc: UnsafeMutablePointer<Float>, count: Int, bias: Float, epilogue: Epilogue,
                residual: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>) {
    switch (epilogue.preActivation, residual, epilogue.postActivation) {
    case (nil, nil, nil):
        for i in 0..<count { out[i] = acc[i] + bias }
    case (.relu?, nil, nil):
        for i in 0..<count { let v = acc[i] + bias; out[i] = v > 0 || v.isNaN ? v : 0 }
    case (nil, let r?, nil):
        for i in 0..<count { out[i] = acc[i] + bias + r[i] }
    case (nil, let r?, .relu?):
        for i in 0..<count { let v = acc[i] + bias + r[i]; out[i] = v > 0 || v.isNaN ? v : 0 }
    case (let pre, let r, let post):
        for i in 0..<count {
            var v = acc[i] + bias
            if let pre { v = pre.apply(v) }
            if let r { v += r[i] }
            if let post { v = post.apply(v) }
            out[i] = v
        }
    }
}

/// Direct convolutions on raw buffers with the epilogue fused into the store. The accumulation
/// for one output plane lives in `accumulator` (one plane of scratch), so the epilogue runs
/// while the plane is still in cache.
enum DirectConv {
    /// Cross-correlation with zero padding `shape.padding` before and implicit zeros after.
    /// `x`: `(N, Cin, *image)`, `w`: `(Cout, Cin/g, *k)`, `y`: `(N, Cout, *output)`.
    static func conv(_ s: ConvShape3D, x: UnsafePointer<Float>, weight w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                     epilogue: Epilogue, residual: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                     accumulator acc: UnsafeMutablePointer<Float>) {
        let cinG = s.inChannels / s.groups, coutG = s.outChannels / s.groups
        let ow = s.output.w, iw = s.image.w
        for n in 0..<s.batch {
            for o in 0..<s.outChannels {
                acc.update(repeating: 0, count: s.outputPlane)
                let firstChannel = (o / coutG) * cinG
                for c in 0..<cinG {
                    let xPlane = x + (n * s.inChannels + firstChannel + c) * s.imagePlane
                    let wTaps = w + (o * cinG + c) * s.kernelVolume
                    for kd in 0..<s.kernel.d {
                        for kh in 0..<s.kernel.h {
                            for kw in 0..<s.kernel.w {
                                let weight = wTaps[(kd * s.kernel.h + kh) * s.kernel.w + kw]
                                // Output columns whose tap lands inside the row: iw = ow*s - p + kw*d.
                                let shift = kw * s.dilation.w - s.padding.w
                                let lo = max(0, ceilDiv(-shift, s.stride.w))
                                let hi = min(ow, ceilDiv(iw - shift, s.stride.w))
                                guard lo < hi else { continue }
                                for od in 0..<s.output.d {
                                    let id = od * s.stride.d - s.padding.d + kd * s.dilation.d
                                    guard id >= 0 && id < s.image.d else { continue }
                                    for oh in 0..<s.output.h {
                                        let ih = oh * s.stride.h - s.padding.h + kh * s.dilation.h
                                        guard ih >= 0 && ih < s.image.h else { continue }
                                        let xRow = xPlane + (id * s.image.h + ih) * iw + shift
                                        let aRow = acc + (od * s.output.h + oh) * ow
                                        if s.stride.w == 1 {
                                            for j in lo..<hi { aRow[j] += weight * xRow[j] }
                                        } else {
                                            for j in lo..<hi { aRow[j] += weight * xRow[j * s.stride.w] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                let plane = (n * s.outChannels + o) * s.outputPlane
                storePlane(acc, count: s.outputPlane, bias: bias?[o] ?? 0, epilogue: epilogue,
                           residual: residual.map { $0 + plane }, out: y + plane)
            }
        }
    }

    /// Transposed convolution, accumulated one output plane at a time: every input position `i`
    /// of the group's channels adds `x[ci, i] * w[ci, o, a]` at output `i*s - p + a*d`.
    /// `x`: `(N, Cin, *image)`, `w`: `(Cin, Cout/g, *k)`, `y`: `(N, Cout, *output)`.
    static func convTranspose(_ s: ConvShape3D, x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                              bias: UnsafePointer<Float>?, epilogue: Epilogue, residual: UnsafePointer<Float>?,
                              y: UnsafeMutablePointer<Float>, accumulator acc: UnsafeMutablePointer<Float>) {
        let cinG = s.inChannels / s.groups, coutG = s.outChannels / s.groups
        for n in 0..<s.batch {
            for o in 0..<s.outChannels {
                acc.update(repeating: 0, count: s.outputPlane)
                let g = o / coutG, j = o % coutG
                for c in 0..<cinG {
                    let ci = g * cinG + c
                    let xPlane = x + (n * s.inChannels + ci) * s.imagePlane
                    let wTaps = w + (ci * coutG + j) * s.kernelVolume
                    for kd in 0..<s.kernel.d {
                        for kh in 0..<s.kernel.h {
                            for kw in 0..<s.kernel.w {
                                let weight = wTaps[(kd * s.kernel.h + kh) * s.kernel.w + kw]
                                scatterTap(s, weight: weight, tap: (kd, kh, kw), xPlane: xPlane, acc: acc)
                            }
                        }
                    }
                }
                let plane = (n * s.outChannels + o) * s.outputPlane
                storePlane(acc, count: s.outputPlane, bias: bias?[o] ?? 0, epilogue: epilogue,
                           residual: residual.map { $0 + plane }, out: y + plane)
            }
        }
    }

    /// Adds one kernel tap's contribution: input position `i` lands on output `i*s - p + a*d`.
    @inline(__always)
    private static func scatterTap(_ s: ConvShape3D, weight: Float, tap: (Int, Int, Int),
                                   xPlane: UnsafePointer<Float>, acc: UnsafeMutablePointer<Float>) {
        let shiftW = tap.2 * s.dilation.w - s.padding.w
        // Input columns whose target column lies in [0, output.w).
        let lo = max(0, ceilDiv(-shiftW, s.stride.w))
        let hi = min(s.image.w, ceilDiv(s.output.w - shiftW, s.stride.w))
        guard lo < hi else { return }
        for id in 0..<s.image.d {
            let od = id * s.stride.d - s.padding.d + tap.0 * s.dilation.d
            guard od >= 0 && od < s.output.d else { continue }
            for ih in 0..<s.image.h {
                let oh = ih * s.stride.h - s.padding.h + tap.1 * s.dilation.h
                guard oh >= 0 && oh < s.output.h else { continue }
                let xRow = xPlane + (id * s.image.h + ih) * s.image.w
                let aRow = acc + (od * s.output.h + oh) * s.output.w + shiftW
                for i in lo..<hi { aRow[i * s.stride.w] += weight * xRow[i] }
            }
        }
    }
}

/// `ceil(a / b)` for `b > 0`.
@inline(__always)
func ceilDiv(_ a: Int, _ b: Int) -> Int {
    a >= 0 ? (a + b - 1) / b : -((-a) / b)
}
