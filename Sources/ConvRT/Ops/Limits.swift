/// Bounds that keep all shape arithmetic inside `Int` and every tensor allocatable, so a
/// hostile model is rejected with an error instead of trapping on overflow or allocation.
enum Limits {
    /// The largest magnitude of any dimension or integer attribute (2^30): sums and products
    /// of two of them cannot overflow 64-bit arithmetic.
    static let maxDimension = 1 << 30
    /// The largest number of elements in one tensor (2^32 floats, 16 GiB).
    static let maxElements = 1 << 32
    /// The longest name of a symbolic input dimension (every layer's display expression repeats it).
    static let maxSymbolLength = 256

    /// The product of `dims`, or `nil` if it overflows.
    static func product(_ dims: [Int]) -> Int? {
        var total = 1
        for d in dims {
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            total = p
        }
        return total
    }

    /// Rejects a tensor of `shape` whose element count overflows or exceeds `maxElements`.
    static func checkElements(_ shape: [Int], _ what: String) throws {
        guard let count = product(shape), count <= maxElements else {
            throw ConvRTError("the \(what) of shape \(shape.bracketed) has more than \(maxElements) elements (16 GiB), the limit")
        }
    }

    static func checkElements(_ shape: SymbolicShape, _ what: String) throws {
        if let concrete = shape.concrete { try checkElements(concrete, what) }
    }

    /// Rejects any integer attribute larger in magnitude than `maxDimension`.
    static func checkAttributes(_ op: Op) throws {
        for (name, values) in op.integerAttributes {
            if let v = values.first(where: { $0 > maxDimension || $0 < -maxDimension }) {  // abs(Int.min) traps
                throw ConvRTError("\(name) value \(v) is too large (the limit is \(maxDimension))")
            }
        }
    }

    static func checkDims(_ shape: SymbolicShape, of input: String) throws {
        if let v = shape.compactMap(\.value).first(where: { $0 > maxDimension }) {
            throw ConvRTError("input '\(input)' has dimension \(v), more than the limit of \(maxDimension)")
        }
    }
}

extension Op {
    /// Every integer-valued attribute, by PyTorch name.
    var integerAttributes: [(String, [Int])] {
        switch self {
        case .conv(let a):
            var list = [("in_channels", a.inChannels.map { [$0] } ?? []), ("out_channels", [a.outChannels]),
                        ("kernel_size", a.kernelSize), ("stride", a.stride), ("dilation", a.dilation),
                        ("groups", [a.groups]), ("output_padding", a.outputPadding), ("output_size", a.outputSize ?? [])]
            if case .explicit(let p) = a.padding { list.append(("padding", p)) }
            return list
        case .unfold(let w):
            return [("kernel_size", w.kernelSize), ("dilation", w.dilation), ("padding", w.padding), ("stride", w.stride)]
        case .fold(let f):
            return [("output_size", f.outputSize), ("kernel_size", f.window.kernelSize), ("dilation", f.window.dilation),
                    ("padding", f.window.padding), ("stride", f.window.stride)]
        case .batchNorm(let b):
            return [("num_features", b.numFeatures.map { [$0] } ?? [])]
        case .activation, .add, .identity:
            return []
        case .pool(let p):
            return [("kernel_size", p.kernelSize), ("stride", p.stride), ("padding", p.padBegin + p.padEnd),
                    ("dilation", p.dilation), ("divisor_override", p.divisorOverride.map { [$0] } ?? [])]
        case .adaptivePool(let p): return [("output_size", p.outputSize.compactMap { $0 })]
        case .linear(let l): return [("in_features", l.inFeatures.map { [$0] } ?? []), ("out_features", [l.outFeatures])]
        case .concat(let axis): return [("dim", [axis])]
        case .flatten(let start, let end): return [("start_dim", [start]), ("end_dim", [end])]
        case .reshape(let r): return [("shape", r.shape)]
        case .transpose(let perm): return [("perm", perm)]
        case .squeeze(let axes), .unsqueeze(let axes), .reduceMean(let axes, _): return [("axes", axes)]
        case .slice(let s): return [("axes", s.axes), ("steps", s.steps)]
        case .gather(let g): return [("axis", [g.axis]), ("indices", g.indices), ("indices_shape", g.indicesShape)]
        case .pad(let p): return [("padding", p.begin + p.end)]
        case .resize(let r): return [("size", r.sizes ?? [])]
        case .softmax(let axis, _): return [("dim", [axis])]
        case .constant(let shape): return [("shape", shape)]
        case .matmul, .binary: return []
        }
    }
}
