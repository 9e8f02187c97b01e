/// Validation and shape functions for Unfold and Fold, following ATen's
/// `im2col_shape_check` / `col2im_shape_check` (two spatial dims only).
extension SlidingWindow {
    /// Parameter checks shared by Unfold and Fold, in ATen's order.
    func validate() throws {
        for (name, list) in [("kernel_size", kernelSize), ("dilation", dilation), ("padding", padding), ("stride", stride)]
        where list.count != 2 {
            throw ConvRTError("It is expected \(name) equals to 2, but got size \(list.count)")
        }
        guard kernelSize.allSatisfy({ $0 > 0 }) else {
            throw ConvRTError("kernel size should be greater than zero, but got kernel_height: \(kernelSize[0]) kernel_width: \(kernelSize[1])")
        }
        guard dilation.allSatisfy({ $0 > 0 }) else {
            throw ConvRTError("dilation should be greater than zero, but got dilation_height: \(dilation[0]) dilation_width: \(dilation[1])")
        }
        guard padding.allSatisfy({ $0 >= 0 }) else {
            throw ConvRTError("padding should be non-negative, but got pad_height: \(padding[0]) pad_width: \(padding[1])")
        }
        guard stride.allSatisfy({ $0 > 0 }) else {
            throw ConvRTError("stride should be greater than zero, but got stride_height: \(stride[0]) stride_width: \(stride[1])")
        }
        // Keeps every product of two of them inside Int (an imported Col2Im can carry any value).
        for (name, list) in [("kernel_size", kernelSize), ("dilation", dilation), ("padding", padding), ("stride", stride)]
        where list.contains(where: { $0 > Limits.maxDimension }) {
            throw ConvRTError("\(name) \(list.bracketed) is too large (the limit is \(Limits.maxDimension))")
        }
    }

    /// Number of block positions along spatial dim `d` for an input of length `size`.
    func blocks(along d: Int, size: Int) -> Int {
        ConvGeometry.convOutputLength(input: size, kernel: kernelSize[d], stride: stride[d], dilation: dilation[d],
                                      padBegin: padding[d], padEnd: padding[d])
    }

    /// Symbolic block count along `d`.
    func blocks(along d: Int, size: Dim) -> Dim {
        switch size {
        case .known(let l): return .known(blocks(along: d, size: l))
        case .symbol(let s):
            let a = 2 * padding[d] - ConvGeometry.dilatedExtent(kernel: kernelSize[d], dilation: dilation[d])
            return .symbol(SymbolicArithmetic.slidingLength(s, numeratorOffset: a, stride: stride[d]))
        }
    }

    /// `kernel_size=(2, 2), dilation=(1, 1), padding=(0, 0)` as ATen prints it.
    var rendered: String {
        "kernel_size=(\(kernelSize[0]), \(kernelSize[1])), dilation=(\(dilation[0]), \(dilation[1])), padding=(\(padding[0]), \(padding[1]))"
    }
}

/// Symbolic product `a*b` of two dims.
func product(_ a: Dim, _ b: Dim) -> Dim {
    if let x = a.value, let y = b.value { return .known(x * y) }
    return .symbol("\(SymbolicArithmetic.operand(a.description))*\(SymbolicArithmetic.operand(b.description))")
}

enum FoldShapeFunction {
    /// `(N, C, H, W) -> (N, C*kh*kw, L)`, or the unbatched `(C, H, W) -> (C*kh*kw, L)`.
    static func unfold(_ w: SlidingWindow, input: SymbolicShape) throws -> SymbolicShape {
        try w.validate()
        let nonZero = input.dropFirst(input.count == 4 ? 1 : 0).allSatisfy { $0.value != 0 }
        guard (input.count == 3 || input.count == 4), nonZero else {
            throw ConvRTError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: \(input.rendered)")
        }
        let (c, h, wd) = (input[input.count - 3], input[input.count - 2], input[input.count - 1])
        let bh = w.blocks(along: 0, size: h), bw = w.blocks(along: 1, size: wd)
        if let x = bh.value, let y = bw.value, x < 1 || y < 1 {
            throw ConvRTError("Given input with spatial size (\(h), \(wd)), \(w.rendered), calculated shape of the array of sliding blocks as (\(x), \(y)), but its components must be at least one.")
        }
        let rows = product(c, .known(w.kernelSize[0] * w.kernelSize[1]))
        return (input.count == 4 ? [input[0]] : []) + [rows, product(bh, bw)]
    }

    /// `(N, C*kh*kw, L) -> (N, C, *outputSize)`, or the unbatched `(C*kh*kw, L) -> (C, *outputSize)`.
    static func fold(_ f: FoldAttributes, input: SymbolicShape) throws -> SymbolicShape {
        let w = f.window
        guard f.outputSize.count == 2 else {
            throw ConvRTError("It is expected output_size equals to 2, but got size \(f.outputSize.count)")
        }
        let (oh, ow) = (f.outputSize[0], f.outputSize[1])
        guard oh > 0, ow > 0 else {
            throw ConvRTError("output_width and output_height should be greater than zero, but got output_height: \(oh) output_width: \(ow)")
        }
        guard oh <= Limits.maxDimension, ow <= Limits.maxDimension else {
            throw ConvRTError("output_size (\(oh), \(ow)) is too large (the limit is \(Limits.maxDimension))")
        }
        try w.validate()
        let nonZero = input.suffix(2).allSatisfy { $0.value != 0 }
        guard input.count == 2 || input.count == 3, nonZero else {
            throw ConvRTError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions for input, but got: \(input.rendered)")
        }
        // Overflow-checked: an imported Col2Im can carry any 64-bit sizes (a fuzzer finding).
        guard let kernelArea = Limits.product(Array(w.kernelSize.prefix(2))), kernelArea <= Limits.maxElements else {
            throw ConvRTError("kernel_size \(w.kernelSize.bracketed) is too large")
        }
        let planes = input[input.count - 2], length = input[input.count - 1]
        guard let planeCount = planes.value else {
            throw ConvRTError("the input's channel dimension must be known when the model is compiled, but it is '\(planes)'")
        }
        guard planeCount % kernelArea == 0 else {
            throw ConvRTError("Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size(1)=\(planeCount) and kernel_size=(\(w.kernelSize[0]), \(w.kernelSize[1])).")
        }
        let bh = w.blocks(along: 0, size: oh), bw = w.blocks(along: 1, size: ow)
        let prefix = "Given output_size=(\(oh), \(ow)), \(w.rendered), stride=(\(w.stride[0]), \(w.stride[1])), "
        guard let blocks = Limits.product([bh, bw]) else {
            throw ConvRTError(prefix + "the number of sliding blocks \(bh) * \(bw) is too large")
        }
        if let l = length.value, l != blocks {
            throw ConvRTError(prefix + "expected size of input's dimension 2 to match the calculated number of sliding blocks \(bh) * \(bw) = \(bh * bw), but got input.size(2)=\(l).")
        }
        guard bh >= 1, bw >= 1 else {
            throw ConvRTError(prefix + "calculated shape of the array of sliding blocks as (\(bh), \(bw)), which is too small (non-positive)")
        }
        return (input.count == 3 ? [input[0]] : []) + [.known(planeCount / kernelArea), .known(oh), .known(ow)]
    }
}

enum ElementwiseShapeFunction {
    /// NumPy/PyTorch broadcasting: dims align from the right; each pair must be equal or contain a 1.
    /// Symbolic dims are assumed compatible here and checked on the bound shapes at run time.
    static func broadcast(_ a: SymbolicShape, _ b: SymbolicShape) throws -> SymbolicShape {
        let rank = max(a.count, b.count)
        let pa = [Dim](repeating: .known(1), count: rank - a.count) + a
        let pb = [Dim](repeating: .known(1), count: rank - b.count) + b
        var out: SymbolicShape = []
        for i in (0..<rank).reversed() {
            switch (pa[i], pb[i]) {
            case (.known(let x), .known(let y)):
                guard x == y || x == 1 || y == 1 else {
                    throw ConvRTError("The size of tensor a (\(x)) must match the size of tensor b (\(y)) at non-singleton dimension \(i)")
                }
                out.append(.known(x == 1 ? y : x))
            case (.known(1), let other), (let other, .known(1)):
                out.append(other)
            case (let x, _):
                out.append(x)
            }
        }
        return out.reversed()
    }
}
