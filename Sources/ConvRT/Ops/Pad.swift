/// Shape function of the padding layers (ZeroPad/ConstantPad/ReflectionPad/ReplicationPad/
/// CircularPad 1d-3d, `F.pad`, ONNX Pad), with PyTorch's checks and messages.
///
/// The last `begin.count` dims are padded; negative amounts crop. Constant padding works on any
/// rank; the other modes take one or two leading dims (unbatched or batched), as `F.pad` does.
enum PadShapeFunction {
    static func infer(_ p: PadAttributes, input: SymbolicShape) throws -> SymbolicShape {
        let n = p.begin.count, r = input.count
        guard p.end.count == n else {
            throw ConvRTError("padding needs as many end values as begin values, but got \(p.begin.bracketed) and \(p.end.bracketed)")
        }
        if p.mode == .circular, n > 0, n <= 3, r != n + 1, r != n + 2 {
            // CircularPadNd._check_input_dim runs before F.pad.
            throw ConvRTError("expected \(n + 1)D or \(n + 2)D input (got \(r)D input)")
        }
        guard n <= r else {
            throw ConvRTError("Padding length should be less than or equal to two times the input dimension but got padding length \(2 * n) and input of dimension \(r)")
        }
        guard n > 0 else { return input }
        let spatial = Array(input.suffix(n))
        switch p.mode {
        case .constant: try checkConstant(p, spatial)
        case .reflect, .replicate: try checkEdgeModes(p, input)
        case .circular: try checkCircular(p, spatial)
        }
        let out: SymbolicShape = spatial.indices.map { d in
            switch spatial[d] {
            case .known(let size): return .known(size + p.begin[d] + p.end[d])
            case .symbol(let s): return .symbol(SymbolicArithmetic.offset(s, p.begin[d] + p.end[d]))
            }
        }
        return input.dropLast(n) + out
    }

    /// `constant_pad_nd` narrows away negative padding first; the rest may be empty.
    private static func checkConstant(_ p: PadAttributes, _ spatial: SymbolicShape) throws {
        for d in spatial.indices {
            guard let size = spatial[d].value else { continue }
            if size + min(p.begin[d], 0) + min(p.end[d], 0) < 0 {
                throw ConvRTError("narrow(): length must be non-negative.")
            }
        }
    }

    /// ReflectionPad / ReplicationPad: rank, non-empty dims, (reflect) pad < size, output >= 1.
    private static func checkEdgeModes(_ p: PadAttributes, _ input: SymbolicShape) throws {
        let n = p.begin.count, r = input.count
        guard n <= 3, r == n + 1 || r == n + 2 else {
            throw ConvRTError("Padding size \(2 * n) is not supported for \(r)D input tensor.")
        }
        if input.dropFirst(r == n + 2 ? 1 : 0).contains(.known(0)) {
            throw ConvRTError("Expected \(n + 1)D or \(n + 2)D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: \(input.rendered)")
        }
        let spatial = Array(input.suffix(n))
        if p.mode == .reflect {
            // The last dim is checked first; F.pad numbers its arguments from the last dim: #4, #6, #8.
            for d in (0..<n).reversed() {
                guard let size = spatial[d].value, p.begin[d] >= size || p.end[d] >= size else { continue }
                throw ConvRTError("Argument #\(4 + 2 * (n - 1 - d)): Padding size should be less than the corresponding input dimension, but got: padding (\(p.begin[d]), \(p.end[d])) at dimension \(r - n + d) of input \(input.rendered)")
            }
        }
        guard let sizes = spatial.concrete else { return }
        let out = sizes.indices.map { sizes[$0] + p.begin[$0] + p.end[$0] }
        guard out.contains(where: { $0 < 1 }) else { return }
        let names = ["D", "H", "W"].suffix(n)
        if n == 1 { throw ConvRTError("input (W: \(sizes[0])) is too small. Calculated output W: \(out[0])") }
        let outText = zip(names, out).map { "\($0): \($1)" }.joined(separator: " ")
        let inText = zip(names, sizes).map { "\($0): \($1)" }.joined(separator: ", ")
        throw ConvRTError("Calculated output \(outText) must be >= 1 in every dimension (input \(inText))")
    }

    /// `_pad_circular`: outermost dim first. It crops before it wraps, so a pad may not exceed
    /// the cropped size either (PyTorch then fails with an aliasing error).
    private static func checkCircular(_ p: PadAttributes, _ spatial: SymbolicShape) throws {
        for d in spatial.indices {
            guard let size = spatial[d].value else { continue }
            let (b, e) = (p.begin[d], p.end[d])
            guard b <= size, e <= size else { throw ConvRTError("Padding value causes wrapping around more than once.") }
            guard size + b + e >= 0 else { throw ConvRTError("Negative padding value is resulting in an empty dimension") }
            let cropped = size + min(b, 0) + min(e, 0)
            if max(b, 0) > cropped || max(e, 0) > cropped {
                throw ConvRTError("Padding value causes wrapping around more than once.")
            }
        }
    }

    /// Where output index `j` of a padded dim reads from in the input dim of `size` elements,
    /// or -1 for the constant. Reflect and replicate index the uncropped input (as PyTorch does);
    /// circular wraps the cropped one. Shape inference has checked the amounts.
    static func sourceIndex(_ j: Int, size n: Int, begin b: Int, end e: Int, mode: PadAttributes.Mode) -> Int {
        let s = j - b
        switch mode {
        case .constant:
            return (0..<n).contains(s) ? s : -1
        case .reflect:
            guard n > 1 else { return 0 }
            let period = 2 * (n - 1)
            let m = ((s % period) + period) % period
            return m < n ? m : period - m
        case .replicate:
            return min(max(s, 0), n - 1)
        case .circular:
            let start = max(-b, 0), cropped = n + min(b, 0) + min(e, 0)
            guard cropped > 0 else { return -1 }
            let t = j - max(b, 0)
            return start + ((t % cropped) + cropped) % cropped
        }
    }
}
