import Foundation

/// A convolution run as one SGEMM per image and group:
/// `[Cout/g x Cin/g*k] (packed weights) x [Cin/g*k x outPlane] (im2col) -> [Cout/g x outPlane]`,
/// with bias, residual and a ReLU/clamp/LeakyReLU applied in the SGEMM's store. A 1x1, stride-1,
/// unpadded conv reads the input directly as B (no im2col).
struct GEMMConv: @unchecked Sendable {
    /// One packed weight matrix per group, packed once when the plan is made.
    let groupWeights: [PackedMatrixA]
    let bias: [Float]?
    /// The activation the SGEMM store applies; `nil` when it cannot (then a second pass runs `trailing`).
    let storeActivation: SGEMMEpilogue.Activation
    let trailing: Activation?
    let threads: Int

    /// Whether this epilogue fits the SGEMM store: bias, + residual, then one activation.
    static func supports(_ e: Epilogue) -> Bool { !(e.preActivation != nil && e.residualInput != nil) }

    init(_ a: ConvAttributes, weight: Tensor, bias: Tensor?, epilogue e: Epilogue, threads: Int) {
        let coutG = a.outChannels / a.groups
        let k = weight.count / max(a.outChannels, 1)
        groupWeights = weight.data.withUnsafeBufferPointer { w in
            (0..<a.groups).map { g in
                PackedMatrixA(rows: coutG, columns: k, array: Array(w[(g * coutG * k)..<((g + 1) * coutG * k)]))
            }
        }
        self.bias = bias?.data
        let activation = e.residualInput == nil ? e.preActivation : e.postActivation
        let mapped = activation.flatMap(Self.storeActivation(for:))
        storeActivation = mapped ?? .none
        trailing = mapped == nil ? activation : nil
        self.threads = threads
    }

    static func storeActivation(for a: Activation) -> SGEMMEpilogue.Activation? {
        switch a {
        case .relu: return .relu
        case .relu6: return .clamp(min: 0, max: 6)
        case .hardtanh(let lo, let hi): return .clamp(min: lo, max: hi)
        case .leakyReLU(let slope): return .leakyReLU(slope: slope)
        default: return nil
        }
    }

    /// Whether B can be read straight from the input: a 1x1 kernel, stride 1, no padding.
    static func readsInputDirectly(_ s: ConvShape3D) -> Bool {
        s.kernelVolume == 1 && s.stride == (1, 1, 1) && s.padding == (0, 0, 0)
            && s.output == s.image
    }

    /// Floats of im2col workspace for one image and group.
    static func columnsFloats(_ s: ConvShape3D) -> Int {
        readsInputDirectly(s) ? 0 : (s.inChannels / s.groups) * s.kernelVolume * s.outputPlane
    }

    func run(_ s: ConvShape3D, x: UnsafePointer<Float>, residual: UnsafePointer<Float>?,
             y: UnsafeMutablePointer<Float>, columns: UnsafeMutablePointer<Float>?) {
        let cinG = s.inChannels / s.groups, coutG = s.outChannels / s.groups
        let k = cinG * s.kernelVolume, n = s.outputPlane
        let direct = Self.readsInputDirectly(s)
        bias.withOptionalPointer { biasPointer in
            for image in 0..<s.batch {
                for g in 0..<s.groups {
                    let xGroup = x + (image * s.inChannels + g * cinG) * s.imagePlane
                    if !direct, let columns { Self.im2col(s, xGroup: xGroup, channels: cinG, out: columns) }
                    let offset = (image * s.outChannels + g * coutG) * n
                    let epilogue = SGEMMEpilogue(bias: biasPointer.map { $0 + g * coutG },
                                                 residual: residual.map { $0 + offset }, residualStride: n,
                                                 activation: storeActivation)
                    SGEMM.multiply(packedA: groupWeights[g], b: direct ? xGroup : UnsafePointer(columns!), ldb: n,
                                   c: y + offset, ldc: n, m: coutG, n: n, k: k, epilogue: epilogue, threads: threads)
                    if let trailing {
                        DirectElementwise.activation(trailing, y + offset, count: coutG * n, out: y + offset)
                    }
                }
            }
        }
    }

    /// `[C, *image] -> [C*kd*kh*kw, outPlane]`: row `(c, kd, kh, kw)` holds the input value each output
    /// position reads through that tap, or 0 in the padding.
    static func im2col(_ s: ConvShape3D, xGroup: UnsafePointer<Float>, channels: Int, out: UnsafeMutablePointer<Float>) {
        var row = out
        let ow = s.output.w, iw = s.image.w
        for c in 0..<channels {
            let plane = xGroup + c * s.imagePlane
            for kd in 0..<s.kernel.d {
                for kh in 0..<s.kernel.h {
                    for kw in 0..<s.kernel.w {
                        let shift = kw * s.dilation.w - s.padding.w
                        let lo = min(ow, max(0, ceilDiv(-shift, s.stride.w)))
                        let hi = max(lo, min(ow, ceilDiv(iw - shift, s.stride.w)))
                        var dst = row
                        for od in 0..<s.output.d {
                            let id = od * s.stride.d - s.padding.d + kd * s.dilation.d
                            for oh in 0..<s.output.h {
                                let ih = oh * s.stride.h - s.padding.h + kh * s.dilation.h
                                if id < 0 || id >= s.image.d || ih < 0 || ih >= s.image.h {
                                    dst.update(repeating: 0, count: ow)
                                } else {
                                    let src = plane + (id * s.image.h + ih) * iw + shift
                                    dst.update(repeating: 0, count: lo)
                                    if s.stride.w == 1 {
                                        (dst + lo).update(from: src + lo, count: hi - lo)
                                    } else {
                                        for j in lo..<hi { dst[j] = src[j * s.stride.w] }
                                    }
                                    (dst + hi).update(repeating: 0, count: ow - hi)
                                }
                                dst += ow
                            }
                        }
                        row += s.outputPlane
                    }
                }
            }
        }
    }
}
