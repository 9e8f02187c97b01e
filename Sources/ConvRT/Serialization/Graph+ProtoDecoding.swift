import Foundation

/// Turns a parsed `PBModel` into a `Graph`, rejecting anything structurally
/// invalid with a `ConvRTError` that names the file and the offending layer.
///
/// Checked here: format version, names (non-empty, unique), topological order,
/// input counts, list lengths against `spatial_rank`, enum values, dims and
/// weight byte counts. Not checked here: value ranges of layer parameters
/// (shape inference owns those for every front end).
struct ModelDecoder {
    /// How the file is named in messages.
    let file: String

    func graph(from model: PBModel) throws -> Graph {
        guard model.formatVersion == ModelFile.formatVersion else {
            let version = model.formatVersion
            throw fail("unsupported format_version \(version) (this convrt reads version \(ModelFile.formatVersion))")
        }
        var scope = Scope(laterNodes: Set(model.nodes.map(\.name)))
        var inputs: [GraphInput] = []
        for (index, pb) in model.inputs.enumerated() {
            inputs.append(try input(pb, index: index, scope: &scope))
        }
        var nodes: [Node] = []
        for (index, pb) in model.nodes.enumerated() {
            nodes.append(try node(pb, index: index, scope: &scope))
        }
        try checkOutputs(model.outputs, scope: scope)
        return Graph(inputs: inputs, nodes: nodes, outputs: model.outputs, weights: try weights(model.weights))
    }

    // MARK: Names

    /// The value names defined so far, and the node names that come later.
    struct Scope {
        var laterNodes: Set<String>
        var defined: Set<String> = []
    }

    private func define(_ name: String, in scope: inout Scope, context: String) throws {
        guard scope.defined.insert(name).inserted else { throw fail("duplicate value name '\(name)'", context) }
    }

    private func checkUse(_ name: String, in scope: Scope, context: String, what: String) throws {
        if scope.defined.contains(name) { return }
        if scope.laterNodes.contains(name) {
            throw fail(
                "\(what) '\(name)' is used before the node that defines it (nodes must be in topological order)",
                context)
        }
        throw fail("\(what) '\(name)' is not defined", context)
    }

    // MARK: Inputs

    private func input(_ pb: PBValueInfo, index: Int, scope: inout Scope) throws -> GraphInput {
        guard !pb.name.isEmpty else { throw fail("graph input \(index) has an empty name") }
        let context = "input '\(pb.name)'"
        try define(pb.name, in: &scope, context: context)
        var shape: SymbolicShape = []
        for (d, dim) in pb.dims.enumerated() {
            switch dim.value {
            case .size(let size):
                guard size >= 0 else { throw fail("dimension \(d) has negative size \(size)", context) }
                shape.append(.known(try int(size, "dimension \(d)", context)))
            case .symbol(let symbol):
                guard !symbol.isEmpty else { throw fail("dimension \(d) has an empty symbol", context) }
                shape.append(.symbol(symbol))
            case nil:
                throw fail("dimension \(d) has neither a size nor a symbol", context)
            }
        }
        return GraphInput(name: pb.name, shape: shape)
    }

    // MARK: Nodes

    private func node(_ pb: PBNode, index: Int, scope: inout Scope) throws -> Node {
        guard !pb.name.isEmpty else { throw fail("node \(index) has an empty name") }
        guard let pbOp = pb.op else {
            throw fail("node has no op (missing, or an op this convrt does not know)", "node '\(pb.name)'")
        }
        let context = "\(Self.displayName(pbOp)) '\(pb.name)'"
        for name in pb.inputs {
            try checkUse(name, in: scope, context: context, what: "input")
        }
        scope.laterNodes.remove(pb.name)
        try define(pb.name, in: &scope, context: context)
        let op = try self.op(pbOp, context: context)
        let arity = op.operandCount
        guard arity.contains(pb.inputs.count) else {
            let count = arity.upperBound == Int.max ? "at least \(plural(arity.lowerBound, "input"))" : plural(arity.lowerBound, "input")
            throw fail("expects \(count), got \(pb.inputs.count)", context)
        }
        return Node(name: pb.name, op: op, inputs: pb.inputs, location: try location(pb, context: context))
    }

    private func location(_ pb: PBNode, context: String) throws -> SourceLocation? {
        guard pb.hasLocation else { return nil }
        let loc = pb.location
        return SourceLocation(
            file: loc.file, line: try int(loc.line, "location line", context),
            column: try int(loc.column, "location column", context))
    }

    /// `Op.displayName` computed from the raw message, before validation.
    static func displayName(_ op: PBNode.OneOf_Op) -> String {
        switch op {
        case .conv(let a):
            return (a.lazy ? "Lazy" : "") + (a.transposed ? "ConvTranspose" : "Conv") + "\(a.spatialRank)d"
        case .unfold: return Op.unfold(SlidingWindow(kernelSize: [])).displayName
        case .fold: return Op.fold(FoldAttributes(outputSize: [], window: SlidingWindow(kernelSize: []))).displayName
        case .relu: return Op.activation(.relu).displayName
        case .add: return Op.add.displayName
        case .activation(let a): return activationKind(a.kind)?.displayName ?? "Activation"
        case .batchNorm(let b): return (b.lazy ? "Lazy" : "") + "BatchNorm\(b.spatialRank)d"
        case .identity: return Op.identity.displayName
        default: return layerDisplayName(op) ?? "Layer"
        }
    }

    /// The activation a kind names, with default parameters; `nil` for unset or unknown kinds.
    private static func activationKind(_ kind: PBActivationAttrs.Kind) -> Activation? {
        switch kind {
        case .relu: return .relu
        case .relu6: return .relu6
        case .leakyRelu: return .leakyReLU(negativeSlope: 0.01)
        case .hardtanh: return .hardtanh(minValue: -1, maxValue: 1)
        case .sigmoid: return .sigmoid
        case .tanh: return .tanh
        case .silu: return .silu
        case .hardswish: return .hardswish
        case .gelu: return .gelu(approximateTanh: false)
        case .hardsigmoid: return .hardSigmoid(alpha: 0.2, beta: 0.5)
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    private func op(_ op: PBNode.OneOf_Op, context: String) throws -> Op {
        switch op {
        case .conv(let a): return .conv(try conv(a, context: context))
        case .unfold(let u):
            let window = try slidingWindow(
                kernelSize: u.kernelSize, dilation: u.dilation, padding: u.padding, stride: u.stride, context: context)
            return .unfold(window)
        case .fold(let f):
            let window = try slidingWindow(
                kernelSize: f.kernelSize, dilation: f.dilation, padding: f.padding, stride: f.stride, context: context)
            return .fold(FoldAttributes(outputSize: try ints(f.outputSize, "output_size", 2, context), window: window))
        case .relu: return .activation(.relu)
        case .add: return .add
        case .activation(let a): return .activation(try activation(a, context: context))
        case .batchNorm(let b): return .batchNorm(try batchNorm(b, context: context))
        case .identity: return .identity
        default:
            guard let layer = try layerOp(op, context: context) else { throw fail("unknown op", context) }
            return layer
        }
    }

    // MARK: Attributes

    private func conv(_ a: PBConvAttrs, context: String) throws -> ConvAttributes {
        guard (1...3).contains(a.spatialRank) else {
            throw fail("spatial_rank \(a.spatialRank) is not 1, 2 or 3", context)
        }
        let rank = Int(a.spatialRank)
        var inChannels: Int?
        switch a.inChannelsPresent {
        case .inChannels(let c): inChannels = try int(c, "in_channels", context)
        case nil:
            guard a.lazy else {
                throw fail("in_channels is missing (only Lazy layers may leave it unresolved)", context)
            }
        }
        return ConvAttributes(
            spatialRank: rank, transposed: a.transposed, isLazy: a.lazy,
            inChannels: inChannels, outChannels: try int(a.outChannels, "out_channels", context),
            kernelSize: try ints(a.kernelSize, "kernel_size", rank, context),
            stride: try ints(a.stride, "stride", rank, context),
            padding: try padding(a, rank: rank, context: context),
            dilation: try ints(a.dilation, "dilation", rank, context),
            groups: try int(a.groups, "groups", context), hasBias: a.bias,
            paddingMode: try paddingMode(a.paddingMode, context: context),
            outputPadding: try ints(a.outputPadding, "output_padding", rank, context),
            outputSize: a.hasOutputSize ? try ints(a.outputSize.values, "output_size", nil, context) : nil)
    }

    private func activation(_ a: PBActivationAttrs, context: String) throws -> Activation {
        guard let base = Self.activationKind(a.kind) else {
            if case .UNRECOGNIZED(let raw) = a.kind { throw fail("unknown activation kind \(raw)", context) }
            throw fail("activation kind is not set", context)
        }
        // Parameters of another kind would be silently ignored: reject them instead.
        let unused = [
            ("negative_slope", a.negativeSlope != 0 && a.kind != .leakyRelu),
            ("min_val", a.minVal != 0 && a.kind != .hardtanh),
            ("max_val", a.maxVal != 0 && a.kind != .hardtanh),
            ("approximate", a.approximate != .none && a.kind != .gelu),
            ("alpha", a.alpha != 0 && a.kind != .hardsigmoid),
            ("beta", a.beta != 0 && a.kind != .hardsigmoid),
        ]
        if let (field, _) = unused.first(where: { $0.1 }) {
            throw fail("\(field) is set, but \(base.displayName) takes no \(field)", context)
        }
        switch base {
        case .leakyReLU: return .leakyReLU(negativeSlope: a.negativeSlope)
        case .hardtanh: return .hardtanh(minValue: a.minVal, maxValue: a.maxVal)
        case .hardSigmoid: return .hardSigmoid(alpha: a.alpha, beta: a.beta)
        case .gelu:
            switch a.approximate {
            case .none: return .gelu(approximateTanh: false)
            case .tanh: return .gelu(approximateTanh: true)
            case .UNRECOGNIZED(let raw): throw fail("unknown GELU approximate \(raw)", context)
            }
        default: return base
        }
    }

    private func batchNorm(_ b: PBBatchNormAttrs, context: String) throws -> BatchNormAttributes {
        guard (1...3).contains(b.spatialRank) else {
            throw fail("spatial_rank \(b.spatialRank) is not 1, 2 or 3", context)
        }
        var numFeatures: Int?
        switch b.numFeaturesPresent {
        case .numFeatures(let n): numFeatures = try int(n, "num_features", context)
        case nil:
            guard b.lazy else {
                throw fail("num_features is missing (only Lazy layers may leave it unresolved)", context)
            }
        }
        return BatchNormAttributes(
            spatialRank: Int(b.spatialRank), isLazy: b.lazy, numFeatures: numFeatures, eps: b.eps,
            affine: b.affine, trackRunningStats: b.trackRunningStats)
    }

    private func padding(_ a: PBConvAttrs, rank: Int, context: String) throws -> ConvAttributes.Padding {
        let kind: ConvAttributes.Padding
        switch a.paddingKind {
        case .explicit: return .explicit(try ints(a.padding, "padding", rank, context))
        case .same: kind = .same
        case .valid: kind = .valid
        case .UNRECOGNIZED(let raw): throw fail("unknown padding_kind \(raw)", context)
        }
        guard a.padding.isEmpty else {
            let name = a.paddingKind == .same ? "SAME" : "VALID"
            throw fail("padding has \(plural(a.padding.count, "value")), but padding_kind \(name) takes none", context)
        }
        return kind
    }

    private func paddingMode(_ mode: PBConvAttrs.PaddingMode, context: String) throws -> ConvAttributes.PaddingMode {
        switch mode {
        case .zeros: return .zeros
        case .reflect: return .reflect
        case .replicate: return .replicate
        case .circular: return .circular
        case .UNRECOGNIZED(let raw): throw fail("unknown padding_mode \(raw)", context)
        }
    }

    private func slidingWindow(
        kernelSize: [Int64], dilation: [Int64], padding: [Int64], stride: [Int64], context: String
    ) throws -> SlidingWindow {
        SlidingWindow(
            kernelSize: try ints(kernelSize, "kernel_size", 2, context),
            dilation: try ints(dilation, "dilation", 2, context),
            padding: try ints(padding, "padding", 2, context),
            stride: try ints(stride, "stride", 2, context))
    }

    // MARK: Outputs and weights

    private func checkOutputs(_ outputs: [String], scope: Scope) throws {
        guard !outputs.isEmpty else { throw fail("model has no outputs") }
        for name in outputs {
            guard scope.defined.contains(name) else { throw fail("output '\(name)' is not defined") }
        }
    }

    private func weights(_ pbs: [PBWeight]) throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        out.reserveCapacity(pbs.count)
        for (index, pb) in pbs.enumerated() {
            guard !pb.name.isEmpty else { throw fail("weight \(index) has an empty name") }
            guard out[pb.name] == nil else { throw fail("duplicate weight name '\(pb.name)'") }
            out[pb.name] = try tensor(pb)
        }
        return out
    }

    private func tensor(_ pb: PBWeight) throws -> Tensor {
        let context = "weight '\(pb.name)'"
        let dims = "[" + pb.dims.map(String.init).joined(separator: ", ") + "]"
        var shape: [Int] = []
        var count = 1
        // Multiply left to right, like `Tensor.init`'s own check, so it cannot overflow there.
        for dim in pb.dims {
            guard dim >= 0 else { throw fail("negative dimension \(dim) in dims \(dims)", context) }
            let size = try int(dim, "dims", context)
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw fail("dims \(dims) have too many elements", context) }
            shape.append(size)
            count = product
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: 4)
        guard !overflow, pb.data.count == bytes else {
            throw fail("data has \(pb.data.count) bytes, expected 4 * product of dims \(dims)", context)
        }
        return Tensor(shape: shape, data: floats(littleEndian: pb.data, count: count))
    }

    // MARK: Helpers

    /// `m.pb: Conv2d 'stem': message`: the file first, then the layer when known.
    func fail(_ message: String, _ context: String? = nil) -> ConvRTError {
        guard let context else { return ConvRTError("\(file): \(message)") }
        return ConvRTError(message, context: "\(file): \(context)")
    }

    func int(_ value: Int64, _ field: String, _ context: String) throws -> Int {
        guard let v = Int(exactly: value) else { throw fail("\(field) \(value) is out of range", context) }
        return v
    }

    /// Converts a list, checking its length when `count` is given.
    func ints(_ values: [Int64], _ field: String, _ count: Int?, _ context: String) throws -> [Int] {
        if let count, values.count != count {
            throw fail("\(field) has \(plural(values.count, "value")), expected \(count)", context)
        }
        return try values.map { try int($0, field, context) }
    }
}

/// `1 value`, `2 values`.
private func plural(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

/// Reads `count` little-endian float32 values; `data.count` must be `4 * count`.
private func floats(littleEndian data: Data, count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        data.withUnsafeBytes { raw in
            #if _endian(little)
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw)
            #else
                for i in 0..<count {
                    let bits = raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
                    buffer[i] = Float(bitPattern: UInt32(littleEndian: bits))
                }
            #endif
        }
        initialized = count
    }
}
