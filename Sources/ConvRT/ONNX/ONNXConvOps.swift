/// Conv, ConvTranspose and BatchNormalization.
extension ImportSession {
    mutating func conv(_ node: ONNXNode) throws -> ImportedValue {
        let x = try runtime(node, 0)
        let (weight, k) = try convWeight(node, input: x.shape)
        let group = try node.int("group", default: 1)
        guard group >= 1 else { throw ConvRTError("group must be positive, got \(group)") }
        let kernel = Array(weight.shape[2...])
        let window = try ConvWindow(node, kernel: kernel)
        let pads = try window.pads(node, input: x.shape)
        var parameters = ["weight": weight]
        parameters["bias"] = try bias(node, count: weight.shape[0])
        var input = x.name
        let padding: ConvAttributes.Padding
        if pads.begin == pads.end {
            padding = .explicit(pads.begin)
        } else if pads.mode == "SAME_UPPER", window.strides.allSatisfy({ $0 == 1 }) {
            padding = .same  // PyTorch's "same": the odd element at the end, like SAME_UPPER.
        } else {
            // Asymmetric padding: an explicit zero Pad, then an unpadded convolution.
            let pad = PadAttributes(mode: .constant, begin: pads.begin, end: pads.end)
            guard let name = try emit(.pad(pad), [x.name], for: node, suffix: "/pad").runtimeName else {
                throw ConvRTError("internal error: pad has no value")
            }
            input = name
            padding = .explicit([Int](repeating: 0, count: k))
        }
        let attributes = ConvAttributes(
            spatialRank: k, inChannels: weight.shape[1] * group, outChannels: weight.shape[0], kernelSize: kernel,
            stride: window.strides, padding: padding, dilation: window.dilations, groups: group,
            hasBias: parameters["bias"] != nil)
        return try emit(.conv(attributes), [input], for: node, parameters: parameters)
    }

    mutating func convTranspose(_ node: ONNXNode) throws -> ImportedValue {
        let x = try runtime(node, 0)
        let (weight, k) = try convWeight(node, input: x.shape)
        let group = try node.int("group", default: 1)
        guard group >= 1 else { throw ConvRTError("group must be positive, got \(group)") }
        let kernel = Array(weight.shape[2...])
        let window = try ConvWindow(node, kernel: kernel)
        let outputPadding = try node.ints("output_padding", count: k, fill: 0)
        let pads = try window.transposedPads(node, input: x.shape, outputPadding: outputPadding)
        var parameters = ["weight": weight]
        parameters["bias"] = try bias(node, count: weight.shape[1] * group)
        // Symmetric padding is ConvTranspose's own. Extra padding at the start is the same as more
        // padding plus output_padding (which extends the end) while PyTorch allows that
        // output_padding; anything else is cropped off afterwards.
        func layer(padding: [Int], outputPadding: [Int]) -> Op {
            .conv(ConvAttributes(
                spatialRank: k, transposed: true, inChannels: weight.shape[0], outChannels: weight.shape[1] * group,
                kernelSize: kernel, stride: window.strides, padding: .explicit(padding), dilation: window.dilations,
                groups: group, hasBias: parameters["bias"] != nil, outputPadding: outputPadding))
        }
        let extra = zip(pads.begin, pads.end).map { $0 - $1 }
        let shifted = zip(outputPadding, extra).map { $0 + $1 }
        if extra.allSatisfy({ $0 >= 0 }),
           (0..<k).allSatisfy({ shifted[$0] < window.strides[$0] || shifted[$0] < window.dilations[$0] }) {
            return try emit(layer(padding: pads.begin, outputPadding: shifted), [x.name], for: node, parameters: parameters)
        }
        let common = zip(pads.begin, pads.end).map { min($0, $1) }
        let full = layer(padding: common, outputPadding: outputPadding)
        guard let name = try emit(full, [x.name], for: node, suffix: "/full", parameters: parameters).runtimeName else {
            throw ConvRTError("internal error: ConvTranspose has no value")
        }
        let crop = PadAttributes(mode: .constant, begin: zip(pads.begin, common).map { $1 - $0 },
                                 end: zip(pads.end, common).map { $1 - $0 })
        return try emit(.pad(crop), [name], for: node)
    }

    /// The constant weight `W` (`(M, C/group, *k)` or `(C, M/group, *k)`) and the spatial rank.
    private func convWeight(_ node: ONNXNode, input: SymbolicShape) throws -> (Tensor, Int) {
        let weight = try requiredConstant(node, 1, "weight W").floatTensor(for: "weight W")
        let k = weight.rank - 2
        guard (1...3).contains(k) else {
            throw ConvRTError("weight has shape \(weight.shape.bracketed); convrt supports 1-d to 3-d convolutions (a weight of 3 to 5 dims)")
        }
        guard input.count == k + 2 else {
            throw ConvRTError("input has shape \(input.rendered), but a \(k)-d convolution needs \(k + 2) dims (N, C, spatial)")
        }
        if let declared = try node.ints("kernel_shape"), declared != Array(weight.shape[2...]) {
            throw ConvRTError("kernel_shape \(declared.bracketed) does not match the weight's shape \(weight.shape.bracketed)")
        }
        return (weight, k)
    }

    /// The optional constant bias `B` of `count` elements.
    private func bias(_ node: ONNXNode, count: Int) throws -> Tensor? {
        guard let b = try constant(node, 2, "bias B") else { return nil }
        let tensor = try b.floatTensor(for: "bias B")
        guard tensor.count == count, tensor.rank == 1 else {
            throw ConvRTError("bias has shape \(tensor.shape.bracketed), but the layer has \(count) output channels")
        }
        return tensor
    }

    mutating func batchNormalization(_ node: ONNXNode) throws -> ImportedValue {
        if try node.int("training_mode", default: 0) != 0 {
            throw ConvRTError("training_mode=1 is not supported (export the model in eval mode)")
        }
        let x = try runtime(node, 0)
        let rank = x.shape.count
        guard (2...5).contains(rank) else {
            throw ConvRTError("input has shape \(x.shape.rendered); BatchNormalization needs 2 to 5 dims")
        }
        let names = ["weight", "bias", "running_mean", "running_var"]
        var parameters: [String: Tensor] = [:]
        for (i, key) in names.enumerated() {
            let t = try requiredConstant(node, i + 1, key).floatTensor(for: key)
            guard t.rank == 1 else { throw ConvRTError("\(key) has shape \(t.shape.bracketed), but it must be 1-d") }
            parameters[key] = t
        }
        let channels = parameters["weight"]?.count ?? 0
        if let bad = names.first(where: { parameters[$0]?.count != channels }) {
            throw ConvRTError("\(bad) has \(parameters[bad]?.count ?? 0) elements, but weight has \(channels)")
        }
        let eps = Double(try node.float("epsilon", default: 1e-5))
        let attributes = BatchNormAttributes(spatialRank: max(rank - 2, 1), numFeatures: channels, eps: eps.shortestFloatValue)
        return try emit(.batchNorm(attributes), [x.name], for: node, parameters: parameters)
    }
}

extension Double {
    /// A float attribute read back as the decimal it was written as: Float(1e-5) gives 1e-5, not
    /// 9.99999974737875e-06, matching the PyTorch double the exporter started from.
    var shortestFloatValue: Double { Double("\(Float(self))") ?? self }
}

/// Strides, dilations and padding of a convolution or pooling window, with ONNX's `auto_pad`.
struct ConvWindow {
    var kernel: [Int]
    var strides: [Int]
    var dilations: [Int]

    init(_ node: ONNXNode, kernel: [Int]) throws {
        self.kernel = kernel
        strides = try node.ints("strides", count: kernel.count, fill: 1)
        dilations = try node.ints("dilations", count: kernel.count, fill: 1)
        guard strides.allSatisfy({ $0 >= 1 }), dilations.allSatisfy({ $0 >= 1 }) else {
            throw ConvRTError("strides \(strides.bracketed) and dilations \(dilations.bracketed) must be positive")
        }
    }

    /// Padding before and after each spatial dim, and the `auto_pad` mode it came from.
    func pads(_ node: ONNXNode, input: SymbolicShape) throws -> (begin: [Int], end: [Int], mode: String) {
        let k = kernel.count
        let mode = try autoPad(node)
        switch mode {
        case "VALID":
            return ([Int](repeating: 0, count: k), [Int](repeating: 0, count: k), mode)
        case "SAME_UPPER", "SAME_LOWER":
            var begin: [Int] = [], end: [Int] = []
            for d in 0..<k {
                let extent = (kernel[d] - 1) * dilations[d] + 1
                let total: Int
                if strides[d] == 1 {
                    total = extent - 1
                } else {
                    guard let size = input[2 + d].value else {
                        throw ConvRTError("auto_pad \(mode) with stride \(strides[d]) needs a known input size, but dim \(2 + d) is '\(input[2 + d])'")
                    }
                    total = max((size + strides[d] - 1) / strides[d] * strides[d] - strides[d] + extent - size, 0)
                }
                let small = total / 2
                begin.append(mode == "SAME_UPPER" ? small : total - small)
                end.append(mode == "SAME_UPPER" ? total - small : small)
            }
            return (begin, end, mode)
        default:
            let pads = try node.ints("pads", count: 2 * k, fill: 0)
            guard pads.allSatisfy({ $0 >= 0 }) else { throw ConvRTError("pads \(pads.bracketed) must not be negative") }
            return (Array(pads[..<k]), Array(pads[k...]), mode)
        }
    }

    /// ConvTranspose padding: `output_shape` (which overrides pads), `auto_pad`, or `pads`.
    func transposedPads(_ node: ONNXNode, input: SymbolicShape, outputPadding: [Int]) throws -> (begin: [Int], end: [Int]) {
        let k = kernel.count
        let mode = try autoPad(node)
        let requested = try node.ints("output_shape").map { Array($0.suffix(k)) }
        if requested == nil && (mode == "NOTSET" || mode == "VALID") {
            let p = try pads(node, input: input)
            return (p.begin, p.end)
        }
        var begin: [Int] = [], end: [Int] = []
        for d in 0..<k {
            let extent = (kernel[d] - 1) * dilations[d] + 1
            // total = stride*(in-1) + output_padding + extent - out; with SAME, out = in*stride.
            var total = outputPadding[d] + extent - strides[d]
            if let requested {
                guard requested.count == k else { throw ConvRTError("output_shape must list \(k) spatial sizes") }
                guard let size = input[2 + d].value else {
                    throw ConvRTError("output_shape needs a known input size, but dim \(2 + d) is '\(input[2 + d])'")
                }
                total = strides[d] * (size - 1) + outputPadding[d] + extent - requested[d]
            }
            guard total >= 0 else {
                throw ConvRTError("the requested output is larger than the full transposed convolution (total padding \(total))")
            }
            let small = total / 2
            begin.append(mode == "SAME_UPPER" ? small : total - small)
            end.append(mode == "SAME_UPPER" ? total - small : small)
        }
        return (begin, end)
    }

    private func autoPad(_ node: ONNXNode) throws -> String {
        let mode = try node.choice("auto_pad", default: "NOTSET", allowed: ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", ""])
        if mode != "NOTSET" && !mode.isEmpty && node.has("pads") {
            throw ConvRTError("pads cannot be used together with auto_pad \(mode)")
        }
        return mode.isEmpty ? "NOTSET" : mode
    }
}
