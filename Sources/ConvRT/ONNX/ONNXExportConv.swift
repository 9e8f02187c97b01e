/// Conv, ConvTranspose, BatchNormalization and padding.
extension ONNXExportSession {
    /// Conv. Zero padding is the Conv's own (`auto_pad=SAME_UPPER` for `padding="same"`, which puts
    /// the odd element at the end as PyTorch does); reflect/replicate/circular padding is an explicit
    /// `Pad`/`Slice`+`Concat` in front of an unpadded Conv, as PyTorch exports it.
    mutating func conv(_ node: Node, _ a: ConvAttributes) throws -> String {
        let x = try input(node)
        let rank = a.spatialRank
        let w = try initializer(node, "weight")
        let b = a.hasBias ? try initializer(node, "bias") : nil
        var attributes = [ONNXAttribute.ints("kernel_shape", a.kernelSize), ONNXAttribute.ints("strides", a.stride),
                          ONNXAttribute.ints("dilations", a.dilation), ONNXAttribute.int("group", a.groups)]
        let (begin, end) = a.padBeginEnd
        let zeros = [Int](repeating: 0, count: rank)
        let padded = begin != zeros || end != zeros
        if a.paddingMode == .zeros, a.padding == .same {
            attributes.append(ONNXAttribute.string("auto_pad", "SAME_UPPER"))
        } else {
            attributes.append(ONNXAttribute.ints("pads", a.paddingMode == .zeros ? begin + end : zeros + zeros))
        }
        return try withBatchDim(node, x, batched: shape(node).count == rank + 2) { session, x in
            var source = x
            if a.paddingMode != .zeros, padded {
                let mode: PadAttributes.Mode = [.reflect: .reflect, .replicate: .replicate, .circular: .circular][a.paddingMode] ?? .constant
                source = session.pad(node, source, rank: rank + 2, PadAttributes(mode: mode, begin: begin, end: end))
            }
            return session.builder.helper("Conv", [source, w] + (b.map { [$0] } ?? []), base: "\(node.name)/Conv", attributes)
        }
    }

    /// ConvTranspose with symmetric `pads` and `output_padding`. PyTorch's `output_size` becomes
    /// the `output_padding` it implies when the input size is known; with a symbolic input size it
    /// is the largest valid `output_padding` followed by a `Slice` to the requested size (the
    /// output is a prefix of the larger one).
    mutating func convTranspose(_ node: Node, _ a: ConvAttributes) throws -> String {
        let x = try input(node)
        let rank = a.spatialRank
        let w = try initializer(node, "weight")
        let b = a.hasBias ? try initializer(node, "bias") : nil
        let p = a.transposedPadding
        let inSpatial = Array(shape(node).suffix(rank)).concrete
        let outSpatial = Array(outputShape(node).suffix(rank)).concrete
        var outputPadding = a.outputPadding
        var crop: [Int]?
        if a.outputSize != nil {
            guard let requested = outSpatial else {
                throw ConvRTError("internal error: output_size without a known output size")
            }
            if let sizes = inSpatial {
                outputPadding = (0..<rank).map { d in
                    requested[d] - ConvGeometry.transposedOutputLength(
                        input: sizes[d], kernel: a.kernelSize[d], stride: a.stride[d], dilation: a.dilation[d],
                        padding: p[d], outputPadding: 0)
                }
            } else {
                outputPadding = zip(a.stride, a.dilation).map { max($0, $1) - 1 }
                crop = requested
            }
        }
        let attributes = [ONNXAttribute.ints("kernel_shape", a.kernelSize), ONNXAttribute.ints("strides", a.stride),
                          ONNXAttribute.ints("dilations", a.dilation), ONNXAttribute.int("group", a.groups),
                          ONNXAttribute.ints("pads", p + p), ONNXAttribute.ints("output_padding", outputPadding)]
        return try withBatchDim(node, x, batched: shape(node).count == rank + 2) { session, x in
            let y = session.builder.helper("ConvTranspose", [x, w] + (b.map { [$0] } ?? []), base: "\(node.name)/ConvTranspose", attributes)
            guard let crop else { return y }
            let axes = Array(2..<(2 + rank))
            return session.slice(node, y, starts: [Int](repeating: 0, count: rank), ends: crop, axes: axes, steps: nil)
        }
    }

    /// BatchNormalization in inference mode; without `affine`, scale 1 and bias 0 initializers.
    mutating func batchNorm(_ node: Node, _ b: BatchNormAttributes) throws -> String {
        guard b.trackRunningStats else {
            throw ONNXExportRejection("track_running_stats=False normalises with the batch's own statistics, which inference-mode BatchNormalization cannot")
        }
        let x = try input(node)
        let mean = try weight(node, "running_mean")
        let scale = b.affine ? try initializer(node, "weight") : builder.floats("\(node.name).weight", Tensor(zeros: mean.shape, value: 1))
        let bias = b.affine ? try initializer(node, "bias") : builder.floats("\(node.name).bias", Tensor(zeros: mean.shape))
        let inputs = [x, scale, bias, builder.floats("\(node.name).running_mean", mean), try initializer(node, "running_var")]
        return builder.helper("BatchNormalization", inputs, base: "\(node.name)/BatchNormalization",
                              [ONNXAttribute.float("epsilon", Float(b.eps))])
    }

    /// The `Pad` layers and ONNX Pad.
    mutating func padLayer(_ node: Node, _ p: PadAttributes) throws -> String {
        pad(node, try input(node), rank: shape(node).count, p)
    }

    /// Pads the trailing `p.begin.count` dims of `x` as convrt does: positive amounts pad, negative
    /// ones crop. Reflect/replicate pad the uncropped input, then crop (`Pad`, then `Slice`); circular
    /// crops first, then wraps (`Slice`, then `Slice`+`Concat` per dim: `Pad` has `wrap` only from
    /// opset 19).
    mutating func pad(_ node: Node, _ x: String, rank: Int, _ p: PadAttributes) -> String {
        let first = rank - p.begin.count
        let axes = (0..<p.begin.count).map { first + $0 }
        let grow = (p.begin.map { max($0, 0) }, p.end.map { max($0, 0) })
        let cropped = p.begin.contains { $0 < 0 } || p.end.contains { $0 < 0 }
        var y = x
        if p.mode == .circular {
            if cropped { y = crop(node, y, p, axes: axes) }
            for (d, axis) in axes.enumerated() where grow.0[d] > 0 || grow.1[d] > 0 {
                y = wrap(node, y, axis: axis, begin: grow.0[d], end: grow.1[d])
            }
            return y
        }
        if grow.0.contains(where: { $0 > 0 }) || grow.1.contains(where: { $0 > 0 }) {
            let leading = [Int](repeating: 0, count: first)
            let pads = ints(node, "pads", leading + grow.0 + leading + grow.1)
            let modes: [PadAttributes.Mode: String] = [.constant: "constant", .reflect: "reflect", .replicate: "edge"]
            var inputs = [y, pads]
            if p.mode == .constant, p.value != 0 { inputs.append(builder.scalar("\(node.name)/value", p.value)) }
            y = builder.helper("Pad", inputs, base: "\(node.name)/Pad", [ONNXAttribute.string("mode", modes[p.mode] ?? "constant")])
        }
        return cropped ? crop(node, y, p, axes: axes) : y
    }

    /// Removes the negative amounts of `p` from `x`.
    private mutating func crop(_ node: Node, _ x: String, _ p: PadAttributes, axes: [Int]) -> String {
        let dims = axes.indices.filter { p.begin[$0] < 0 || p.end[$0] < 0 }
        return slice(node, x, starts: dims.map { max(-p.begin[$0], 0) },
                     ends: dims.map { p.end[$0] < 0 ? p.end[$0] : Int(Int64.max) }, axes: dims.map { axes[$0] }, steps: nil)
    }

    /// `Concat(x[-begin:], x, x[:end])` along `axis`: circular padding, as PyTorch's TorchScript exporter writes it.
    private mutating func wrap(_ node: Node, _ x: String, axis: Int, begin: Int, end: Int) -> String {
        var parts: [String] = []
        if begin > 0 { parts.append(slice(node, x, starts: [-begin], ends: [Int(Int64.max)], axes: [axis], steps: nil)) }
        parts.append(x)
        if end > 0 { parts.append(slice(node, x, starts: [0], ends: [end], axes: [axis], steps: nil)) }
        return builder.helper("Concat", parts, base: "\(node.name)/Concat", [ONNXAttribute.int("axis", axis)])
    }

    /// ONNX Slice with constant starts/ends/axes (and steps).
    mutating func slice(_ node: Node, _ x: String, starts: [Int], ends: [Int], axes: [Int], steps: [Int]?) -> String {
        var inputs = [x, ints(node, "starts", starts), ints(node, "ends", ends), ints(node, "axes", axes)]
        if let steps { inputs.append(ints(node, "steps", steps)) }
        return builder.helper("Slice", inputs, base: "\(node.name)/Slice")
    }
}
