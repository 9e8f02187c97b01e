import Foundation

// Encoding and decoding of the layers beyond convolution (pooling, resizing, padding, dense and
// tensor-manipulation ops). Decoding checks only what the message itself can get wrong (list
// lengths, enum values, int ranges); shape inference checks the rest.

extension PBNode.OneOf_Op {
    /// The message for an op of `LayerAttributes.swift`; `nil` for the convolution-family ops.
    init?(layer op: Op) {
        switch op {
        case .pool(let p): self = .pool(PBPoolAttrs(p))
        case .adaptivePool(let p):
            self = .adaptivePool(.with {
                $0.kind = PBPoolAttrs.Kind(p.kind)
                $0.spatialRank = Int64(p.spatialRank)
                $0.outputSize = p.outputSize.map { Int64($0 ?? -1) }
            })
        case .linear(let l):
            self = .linear(.with {
                $0.lazy = l.isLazy
                if let n = l.inFeatures { $0.inFeatures = Int64(n) }
                $0.outFeatures = Int64(l.outFeatures)
                $0.bias = l.hasBias
            })
        case .matmul: self = .matmul(PBMatMulAttrs())
        case .binary(let b):
            let map: [BinaryOperator: PBBinaryAttrs.Operator] = [.sub: .sub, .mul: .mul, .div: .div]
            self = .binary(.with { $0.operator = map[b] ?? .sub })
        case .concat(let axis): self = .concat(.with { $0.axis = Int64(axis) })
        case .flatten(let start, let end):
            self = .flatten(.with {
                $0.startDim = Int64(start)
                $0.endDim = Int64(end)
            })
        case .reshape(let r):
            self = .reshape(.with {
                $0.shape = r.shape.int64s
                $0.allowZero = r.allowZero
            })
        case .transpose(let perm): self = .transpose(.with { $0.permutation = perm.int64s })
        case .squeeze(let axes): self = .squeeze(.with { $0.axes = axes.int64s })
        case .unsqueeze(let axes): self = .unsqueeze(.with { $0.axes = axes.int64s })
        case .slice(let s):
            self = .slice(.with {
                $0.starts = s.starts.int64s
                $0.ends = s.ends.int64s
                $0.axes = s.axes.int64s
                $0.steps = s.steps.int64s
            })
        case .gather(let g):
            self = .gather(.with {
                $0.axis = Int64(g.axis)
                $0.indices = g.indices.int64s
                $0.indicesShape = g.indicesShape.int64s
            })
        case .pad(let p): self = .pad(PBPadAttrs(p))
        case .resize(let r): self = .resize(PBResizeAttrs(r))
        case .softmax(let axis, let log):
            self = .softmax(.with {
                $0.axis = Int64(axis)
                $0.log = log
            })
        case .reduceMean(let axes, let keepDims):
            self = .reduceMean(.with {
                $0.axes = axes.int64s
                $0.keepDims = keepDims
            })
        case .constant(let shape): self = .constant(.with { $0.shape = shape.int64s })
        case .conv, .unfold, .fold, .activation, .add, .batchNorm, .identity: return nil
        }
    }
}

extension PBPoolAttrs.Kind {
    init(_ kind: PoolAttributes.Kind) { self = kind == .max ? .max : .average }
}

extension PBPoolAttrs {
    init(_ p: PoolAttributes) {
        self.init()
        kind = Kind(p.kind)
        spatialRank = Int64(p.spatialRank)
        kernelSize = p.kernelSize.int64s
        stride = p.stride.int64s
        padBegin = p.padBegin.int64s
        padEnd = p.padEnd.int64s
        dilation = p.dilation.int64s
        ceilMode = p.ceilMode
        countIncludePad = p.countIncludePad
        if let d = p.divisorOverride { divisorOverride = Int64(d) }
    }
}

extension PBPadAttrs {
    init(_ p: PadAttributes) {
        self.init()
        let map: [PadAttributes.Mode: Mode] = [.constant: .constant, .reflect: .reflect, .replicate: .replicate, .circular: .circular]
        mode = map[p.mode] ?? .constant
        begin = p.begin.int64s
        end = p.end.int64s
        value = p.value
    }
}

extension PBResizeAttrs {
    init(_ r: ResizeAttributes) {
        self.init()
        mode = r.mode == .nearest ? .nearest : .linear
        let transforms: [ResizeAttributes.CoordinateTransform: CoordinateTransform] = [
            .halfPixel: .halfPixel, .pytorchHalfPixel: .pytorchHalfPixel, .alignCorners: .alignCorners, .asymmetric: .asymmetric,
        ]
        coordinateTransform = transforms[r.coordinateTransform] ?? .halfPixel
        let roundings: [ResizeAttributes.NearestRounding: NearestRounding] = [
            .floor: .floor, .ceil: .ceil, .roundPreferFloor: .roundPreferFloor, .roundPreferCeil: .roundPreferCeil,
        ]
        nearestRounding = roundings[r.nearestRounding] ?? .floor
        scales = r.scales ?? []
        sizes = (r.sizes ?? []).int64s
    }
}

extension ModelDecoder {
    /// `Op.displayName` of a layer message, before validation; `nil` for the convolution-family ops.
    static func layerDisplayName(_ op: PBNode.OneOf_Op) -> String? {
        switch op {
        case .pool(let p): return (p.kind == .max ? "MaxPool" : "AvgPool") + "\(p.spatialRank)d"
        case .adaptivePool(let p): return "Adaptive" + (p.kind == .max ? "Max" : "Avg") + "Pool\(p.spatialRank)d"
        case .linear(let l): return (l.lazy ? "Lazy" : "") + "Linear"
        case .matmul: return "MatMul"
        case .binary(let b): return ["Sub", "Mul", "Div"][safe: b.operator.rawValue] ?? "Binary"
        case .concat: return "Concat"
        case .flatten: return "Flatten"
        case .reshape: return "Reshape"
        case .transpose: return "Transpose"
        case .squeeze: return "Squeeze"
        case .unsqueeze: return "Unsqueeze"
        case .slice: return "Slice"
        case .gather: return "Gather"
        case .pad(let p):
            return (["ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad"][safe: p.mode.rawValue] ?? "Pad") + "\(p.begin.count)d"
        case .resize: return "Upsample"
        case .softmax(let s): return s.log ? "LogSoftmax" : "Softmax"
        case .reduceMean: return "ReduceMean"
        case .constant: return "Constant"
        case .conv, .unfold, .fold, .relu, .add, .activation, .batchNorm, .identity: return nil
        }
    }

    /// Decodes a layer message; `nil` for the convolution-family ops.
    func layerOp(_ op: PBNode.OneOf_Op, context: String) throws -> Op? {
        switch op {
        case .pool(let p): return .pool(try pool(p, context: context))
        case .adaptivePool(let p):
            let rank = try spatialRank(p.spatialRank, context)
            let sizes = try ints(p.outputSize, "output_size", rank, context)
            return .adaptivePool(AdaptivePoolAttributes(kind: try poolKind(p.kind, context), spatialRank: rank,
                                                        outputSize: sizes.map { $0 < 0 ? nil : $0 }))
        case .linear(let l):
            var inFeatures: Int?
            switch l.inFeaturesPresent {
            case .inFeatures(let n): inFeatures = try int(n, "in_features", context)
            case nil:
                guard l.lazy else { throw fail("in_features is missing (only Lazy layers may leave it unresolved)", context) }
            }
            return .linear(LinearAttributes(isLazy: l.lazy, inFeatures: inFeatures,
                                            outFeatures: try int(l.outFeatures, "out_features", context), hasBias: l.bias))
        case .matmul: return .matmul
        case .binary(let b):
            switch b.operator {
            case .sub: return .binary(.sub)
            case .mul: return .binary(.mul)
            case .div: return .binary(.div)
            case .UNRECOGNIZED(let raw): throw fail("unknown binary operator \(raw)", context)
            }
        case .concat(let c): return .concat(axis: try int(c.axis, "axis", context))
        case .flatten(let f): return .flatten(startDim: try int(f.startDim, "start_dim", context), endDim: try int(f.endDim, "end_dim", context))
        case .reshape(let r): return .reshape(ReshapeAttributes(shape: try ints(r.shape, "shape", nil, context), allowZero: r.allowZero))
        case .transpose(let t): return .transpose(permutation: try ints(t.permutation, "permutation", nil, context))
        case .squeeze(let s): return .squeeze(axes: try ints(s.axes, "axes", nil, context))
        case .unsqueeze(let u): return .unsqueeze(axes: try ints(u.axes, "axes", nil, context))
        case .slice(let s):
            let axes = try ints(s.axes, "axes", nil, context)
            return .slice(SliceAttributes(starts: try ints(s.starts, "starts", axes.count, context),
                                          ends: try ints(s.ends, "ends", axes.count, context), axes: axes,
                                          steps: try ints(s.steps, "steps", axes.count, context)))
        case .gather(let g):
            return .gather(GatherAttributes(axis: try int(g.axis, "axis", context), indices: try ints(g.indices, "indices", nil, context),
                                            indicesShape: try ints(g.indicesShape, "indices_shape", nil, context)))
        case .pad(let p): return .pad(try pad(p, context: context))
        case .resize(let r): return .resize(try resize(r, context: context))
        case .softmax(let s): return .softmax(axis: try int(s.axis, "axis", context), log: s.log)
        case .reduceMean(let r): return .reduceMean(axes: try ints(r.axes, "axes", nil, context), keepDims: r.keepDims)
        case .constant(let c): return .constant(shape: try ints(c.shape, "shape", nil, context))
        case .conv, .unfold, .fold, .relu, .add, .activation, .batchNorm, .identity: return nil
        }
    }

    private func spatialRank(_ rank: Int64, _ context: String) throws -> Int {
        guard (1...3).contains(rank) else { throw fail("spatial_rank \(rank) is not 1, 2 or 3", context) }
        return Int(rank)
    }

    private func poolKind(_ kind: PBPoolAttrs.Kind, _ context: String) throws -> PoolAttributes.Kind {
        switch kind {
        case .max: return .max
        case .average: return .average
        case .UNRECOGNIZED(let raw): throw fail("unknown pool kind \(raw)", context)
        }
    }

    private func pool(_ p: PBPoolAttrs, context: String) throws -> PoolAttributes {
        let rank = try spatialRank(p.spatialRank, context)
        var divisor: Int?
        if case .divisorOverride(let d) = p.divisorOverridePresent { divisor = try int(d, "divisor_override", context) }
        return PoolAttributes(
            kind: try poolKind(p.kind, context), spatialRank: rank,
            kernelSize: try ints(p.kernelSize, "kernel_size", rank, context),
            stride: try ints(p.stride, "stride", rank, context),
            padBegin: try ints(p.padBegin, "pad_begin", rank, context),
            padEnd: try ints(p.padEnd, "pad_end", rank, context),
            dilation: try ints(p.dilation, "dilation", rank, context),
            ceilMode: p.ceilMode, countIncludePad: p.countIncludePad, divisorOverride: divisor)
    }

    private func pad(_ p: PBPadAttrs, context: String) throws -> PadAttributes {
        let mode: PadAttributes.Mode
        switch p.mode {
        case .constant: mode = .constant
        case .reflect: mode = .reflect
        case .replicate: mode = .replicate
        case .circular: mode = .circular
        case .UNRECOGNIZED(let raw): throw fail("unknown pad mode \(raw)", context)
        }
        let begin = try ints(p.begin, "begin", nil, context)
        return PadAttributes(mode: mode, begin: begin, end: try ints(p.end, "end", begin.count, context), value: p.value)
    }

    private func resize(_ r: PBResizeAttrs, context: String) throws -> ResizeAttributes {
        let mode: ResizeAttributes.Mode
        switch r.mode {
        case .nearest: mode = .nearest
        case .linear: mode = .linear
        case .UNRECOGNIZED(let raw): throw fail("unknown resize mode \(raw)", context)
        }
        let transform: ResizeAttributes.CoordinateTransform
        switch r.coordinateTransform {
        case .halfPixel: transform = .halfPixel
        case .pytorchHalfPixel: transform = .pytorchHalfPixel
        case .alignCorners: transform = .alignCorners
        case .asymmetric: transform = .asymmetric
        case .UNRECOGNIZED(let raw): throw fail("unknown coordinate_transform \(raw)", context)
        }
        let rounding: ResizeAttributes.NearestRounding
        switch r.nearestRounding {
        case .floor: rounding = .floor
        case .ceil: rounding = .ceil
        case .roundPreferFloor: rounding = .roundPreferFloor
        case .roundPreferCeil: rounding = .roundPreferCeil
        case .UNRECOGNIZED(let raw): throw fail("unknown nearest_rounding \(raw)", context)
        }
        guard r.scales.isEmpty != r.sizes.isEmpty else { throw fail("exactly one of scales and sizes must be given", context) }
        return ResizeAttributes(mode: mode, coordinateTransform: transform, nearestRounding: rounding,
                                scales: r.scales.isEmpty ? nil : r.scales,
                                sizes: r.sizes.isEmpty ? nil : try ints(r.sizes, "sizes", nil, context))
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
