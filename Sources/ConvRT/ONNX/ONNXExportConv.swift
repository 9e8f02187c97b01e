/// Conv, ConvTranspose, BatchNormalization and padding.
extension ONNXExportSession {
    /// Conv. Zero padding is the Conv's own (`padding="same"` as explicit pads, the odd element at
    /// the end); reflect/replicate/circular padding is an explicit `Pad`/`Slice`+`Concat` in front of
    /// an unpadded Conv, as PyTorch exports it.
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
        // Explicit pads also for "same": ONNX Runtime rejects auto_pad SAME_* with dilations.
        attributes.append(ONNXAttribute.ints("pads", a.paddingMode == .zeros ? begin + end : zeros + zeros))
        return try withBatchDim(node, x, batched: shape(node).count == rank + 2) { session, x in
            var source = x
            if a.paddingMode != .zeros, padded {
                let mode: PadAttributes.Mode = [.reflect: .reflect, .replicate: .replicate, .circular: .circular][a.paddingMode] ?? .constant
                source = session.pad(node, source, rank: rank + 2, PadAttributes(mode: mode, begin: begin, end: end))
            }
            return session.builder.helper("Conv", [source, w] + (b.map { [$0] } ?? []), base: "\(node.name)/Conv", attributes)
        }
    }

    /// ConvTranspose. PyTorch's `output_size` becomes the `output_padding` it implies when the
    /// input size is known; with a symbolic input size the output is computed with `stride - 1`
    /// extra elements and sliced to the requested size (it is a prefix of the larger output).
    mutating func convTranspose(_ node: Node, _ a: ConvAttributes) throws -> String {
        let x = try input(node)
        let rank = a.spatialRank
        let p = a.transposedPadding
        let inSpatial = Array(shape(node).suffix(rank)).concrete
        var outputPadding = a.outputPadding
        var crop: [Int]?
        if a.outputSize != nil {
            guard let requested = Array(outputShape(node).suffix(rank)).concrete else {
                throw ConvRTError("internal error: output_size without a known output size")
            }
            if let sizes = inSpatial {
                outputPadding = (0..<rank).map { d in
                    requested[d] - ConvGeometry.transposedOutputLength(
                        input: sizes[d], kernel: a.kernelSize[d], stride: a.stride[d], dilation: a.dilation[d],
                        padding: p[d], outputPadding: 0)
                }
            } else {
                outputPadding = a.stride.map { $0 - 1 }
                crop = requested
            }
        }
        let plan = TransposedPadding(padding: p, outputPadding: outputPadding, stride: a.stride)
        let w = try initializer(node, "weight")
        let biasLate = a.hasBias && plan.extra.contains { $0 > 0 }
        let b = a.hasBias && !biasLate ? try initializer(node, "bias") : nil
        let lateBias = biasLate ? try lateBiasInitializer(node, rank: rank) : nil
        let attributes = [ONNXAttribute.ints("kernel_shape", a.kernelSize), ONNXAttribute.ints("strides", a.stride),
                          ONNXAttribute.ints("dilations", a.dilation), ONNXAttribute.int("group", a.groups),
                          ONNXAttribute.ints("pads", plan.begin + plan.end), ONNXAttribute.ints("output_padding", plan.outputPadding)]
        return try withBatchDim(node, x, batched: shape(node).count == rank + 2) { session, x in
            var y = session.builder.helper("ConvTranspose", [x, w] + (b.map { [$0] } ?? []), base: "\(node.name)/ConvTranspose", attributes)
            if plan.extra.contains(where: { $0 > 0 }) {
                let zeros = [Int](repeating: 0, count: rank)
                y = session.pad(node, y, rank: rank + 2, PadAttributes(mode: .constant, begin: zeros, end: plan.extra))
            }
            if let lateBias { y = session.builder.helper("Add", [y, lateBias], base: "\(node.name)/Add") }
            guard let crop else { return y }
            return session.slice(node, y, starts: [Int](repeating: 0, count: rank), ends: crop, axes: Array(2..<(2 + rank)), steps: nil)
        }
    }

    /// The bias as `(C, 1, ...)`, added after the zero padding a `TransposedPadding` appends.
    private mutating func lateBiasInitializer(_ node: Node, rank: Int) throws -> String {
        let bias = try weight(node, "bias")
        return builder.floats("\(node.name).bias", bias.reshaped([bias.count] + [Int](repeating: 1, count: rank)))
    }

    /// BatchNormalization in inference mode; without `affine`, scale 1 and bias 0 initializers.
    mutating func batchNorm(_ node: Node, _ b: BatchNormAttributes) throws -> String {
        guard b.trackRunningStats else {
            throw ONNXExportRejection("track_running_stats=False normalises with the batch's own statistics, which inference-mode BatchNormalization cannot")
        }
        let x = try input(node)
        let mean = try weight(node, "running_mean")
        if let channels = shape(node)[safe: 1]?.value, channels != mean.count {
            // PyTorch lets an empty input through; ONNX requires the parameters to match the channels.
            throw ONNXExportRejection("num_features \(mean.count) does not match the input's \(channels) channels")
        }
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

/// ConvTranspose padding ONNX Runtime accepts: it requires `output_padding < stride`, while PyTorch
/// also allows `output_padding < dilation`. Per dim, with `op` the output padding and `p` the padding:
/// `op < stride` is kept; otherwise `op` fewer elements are cropped at the end (end pad `p - op`) when
/// `op <= p`; otherwise the end is not cropped, `output_padding` takes what `stride` allows, and the
/// rest (`extra`), which lies past every input's reach and holds only the bias, is appended by a zero
/// `Pad` before the bias is added.
struct TransposedPadding {
    var begin: [Int] = []
    var end: [Int] = []
    var outputPadding: [Int] = []
    var extra: [Int] = []

    init(padding: [Int], outputPadding op: [Int], stride: [Int]) {
        for d in padding.indices {
            let (p, o, s) = (padding[d], op[d], stride[d])
            begin.append(p)
            if o < s {
                (end, outputPadding, extra) = (end + [p], outputPadding + [o], extra + [0])
            } else if o <= p {
                (end, outputPadding, extra) = (end + [p - o], outputPadding + [0], extra + [0])
            } else {
                let rest = min(o - p, s - 1)
                (end, outputPadding, extra) = (end + [0], outputPadding + [rest], extra + [o - p - rest])
            }
        }
    }
}
