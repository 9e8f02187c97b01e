/// Pooling, adaptive pooling, Fold (Col2Im) and Unfold.
extension ONNXExportSession {
    /// MaxPool/AveragePool. PyTorch's `divisor_override` is the sum over the full window (an
    /// AveragePool that counts padding, times the window size) divided by the override.
    mutating func pool(_ node: Node, _ p: PoolAttributes) throws -> String {
        let padEnd = p.ceilMode ? Self.ceilModePadEnd(p, spatial: Array(shape(node).suffix(p.spatialRank))) : p.padEnd
        var attributes = [ONNXAttribute.ints("kernel_shape", p.kernelSize), ONNXAttribute.ints("strides", p.stride),
                          ONNXAttribute.ints("pads", p.padBegin + padEnd), ONNXAttribute.int("ceil_mode", p.ceilMode ? 1 : 0)]
        var rescale: Float?
        if p.kind == .max {
            attributes.append(ONNXAttribute.ints("dilations", p.dilation))
        } else if let divisor = p.divisorOverride {
            // Without ceil_mode every window lies inside the padded input, so it counts all of its
            // kernel's cells; with ceil_mode the last windows are clipped and no constant rescales them.
            guard !p.ceilMode else {
                throw ONNXExportRejection("divisor_override with ceil_mode=True has no AveragePool equivalent")
            }
            attributes.append(ONNXAttribute.int("count_include_pad", 1))
            rescale = Float(Double(p.kernelSize.reduce(1, *)) / Double(divisor))
        } else {
            attributes.append(ONNXAttribute.int("count_include_pad", p.countIncludePad ? 1 : 0))
        }
        let op = p.kind == .max ? "MaxPool" : "AveragePool"
        let batched = shape(node).count == p.spatialRank + 2
        return try withBatchDim(node, try input(node), batched: batched) { session, x in
            let y = session.builder.helper(op, [x], base: "\(node.name)/\(op)", attributes)
            guard let rescale else { return y }
            return session.builder.helper("Mul", [y, session.builder.scalar("\(node.name)/scale", rescale)], base: "\(node.name)/Mul")
        }
    }

    /// In ceil mode PyTorch (and ONNX Runtime) drop a last window that would start in the end
    /// padding; ONNX's opset-17 output-size formula keeps it. Where that differs on a known size, the
    /// end padding is trimmed to where the last kept window ends, so that window never exists and
    /// every other window, divisor included, stays the same.
    static func ceilModePadEnd(_ p: PoolAttributes, spatial: SymbolicShape) -> [Int] {
        var padEnd = p.padEnd
        for d in 0..<p.spatialRank {
            guard let n = spatial[safe: d]?.value else { continue }
            let (k, s, pb, pe) = (p.kernelSize[d], p.stride[d], p.padBegin[d], p.padEnd[d])
            let dilation = p.kind == .max ? p.dilation[d] : 1
            let extent = dilation * (k - 1) + 1
            let kept = PoolShapeFunction.outputLength(size: n, kernel: k, padBegin: pb, padEnd: pe, stride: s,
                                                      dilation: dilation, ceilMode: true)
            let onnx = ConvGeometry.floorDiv(n + pb + pe - extent + s - 1, s) + 1
            let trimmed = (kept - 1) * s - pb + extent - n
            if onnx != kept, trimmed >= 0, trimmed <= pe { padEnd[d] = trimmed }
        }
        return padEnd
    }

    /// Adaptive pooling: GlobalAveragePool/GlobalMaxPool (or ReduceMean over the trailing dims, as
    /// PyTorch computes a 1x1 average) for an output of ones; otherwise a pool whose kernel and stride
    /// are `in / out`, exact when every output size divides its input size. Other sizes have
    /// overlapping windows of varying size, which no ONNX pool expresses.
    mutating func adaptivePool(_ node: Node, _ p: AdaptivePoolAttributes) throws -> String {
        let x = try input(node)
        let n = p.spatialRank
        let input = shape(node)
        let batched = input.count == n + 2
        if p.outputSize.allSatisfy({ $0 == 1 }) {
            if p.kind == .average && !batched {
                return reduceMean(node, x, axes: Array((input.count - n)..<input.count), keepDims: true)
            }
            let op = p.kind == .max ? "GlobalMaxPool" : "GlobalAveragePool"
            return try withBatchDim(node, x, batched: batched) { session, x in
                session.builder.helper(op, [x], base: "\(node.name)/\(op)")
            }
        }
        let spatial = Array(input.suffix(n))
        var kernel: [Int] = []
        for (size, out) in zip(spatial, p.outputSize) {
            switch (size.value, out) {
            case (_, nil): kernel.append(1)
            case (let s?, let o?) where o > 0 && s % o == 0: kernel.append(s / o)
            default:
                let sizes = p.outputSize.map { $0.map(String.init) ?? "None" }.joined(separator: ", ")
                throw ONNXExportRejection("output size [\(sizes)] does not divide the input size \(spatial.rendered)")
            }
        }
        let op = p.kind == .max ? "MaxPool" : "AveragePool"
        let attributes = [ONNXAttribute.ints("kernel_shape", kernel), ONNXAttribute.ints("strides", kernel)]
        return try withBatchDim(node, x, batched: batched) { session, x in
            session.builder.helper(op, [x], base: "\(node.name)/\(op)", attributes)
        }
    }

    /// Fold as Col2Im (opset 18).
    mutating func fold(_ node: Node, _ f: FoldAttributes) throws -> String {
        let w = f.window
        let image = ints(node, "image_shape", f.outputSize)
        let block = ints(node, "block_shape", w.kernelSize)
        let attributes = [ONNXAttribute.ints("dilations", w.dilation), ONNXAttribute.ints("pads", w.padding + w.padding),
                          ONNXAttribute.ints("strides", w.stride)]
        return try withBatchDim(node, try input(node), batched: shape(node).count == 3) { session, x in
            session.builder.helper("Col2Im", [x, image, block], base: "\(node.name)/Col2Im", attributes)
        }
    }

    /// Unfold as PyTorch's exporter writes it: zero `Pad`, a `Gather` of the window rows `(kh, oh)`
    /// and columns `(kw, ow)`, a `Transpose` to `(C, kh, kw, oh, ow)` and a `Reshape` to
    /// `(C*kh*kw, oh*ow)`. The gather indices depend on the image size, which must be known.
    mutating func unfold(_ node: Node, _ w: SlidingWindow) throws -> String {
        let input = shape(node)
        let r = input.count
        guard let image = Array(input.suffix(2)).concrete else {
            throw ONNXExportRejection("the gather indices need a known image size, but it is \(Array(input.suffix(2)).rendered)")
        }
        var y = try self.input(node)
        if w.padding.contains(where: { $0 != 0 }) {
            y = pad(node, y, rank: r, PadAttributes(mode: .constant, begin: w.padding, end: w.padding))
        }
        let blocks = (0..<2).map { w.blocks(along: $0, size: image[$0]) }
        for d in 0..<2 {
            let k = w.kernelSize[d]
            let indices = (0..<k).flatMap { tap in (0..<blocks[d]).map { tap * w.dilation[d] + $0 * w.stride[d] } }
            let table = ints(node, d == 0 ? "rows" : "columns", indices, shape: [k, blocks[d]])
            // Rows gather dim r-2 of the image; columns then gather the last dim, now at index r.
            y = builder.helper("Gather", [y, table], base: "\(node.name)/Gather", [ONNXAttribute.int("axis", d == 0 ? r - 2 : r)])
        }
        // [.., C, kh, oh, kw, ow] -> [.., C, kh, kw, oh, ow]
        let perm = Array(0..<(r - 3)) + [r - 3, r - 2, r, r - 1, r + 1]
        y = builder.helper("Transpose", [y], base: "\(node.name)/Transpose", [ONNXAttribute.ints("perm", perm)])
        let channels = input[r - 3].value.map { $0 * w.kernelSize[0] * w.kernelSize[1] } ?? -1
        let target = (r == 4 ? [0] : []) + [channels, blocks[0] * blocks[1]]
        return builder.helper("Reshape", [y, ints(node, "shape", target)], base: "\(node.name)/Reshape")
    }
}
