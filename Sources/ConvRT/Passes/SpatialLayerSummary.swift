/// `convrt inspect`'s attribute text and FLOP counts for pooling, padding and resizing layers.
enum SpatialLayerSummary {
    private static func list(_ v: [Int]) -> String {
        Set(v).count == 1 ? String(v[0]) : v.map(String.init).joined(separator: "x")
    }

    /// `k=3 s=2 p=1 ceil`, `out=1`, `mode=reflect pad=(1, 1, 2, 2)`, `mode=bilinear scale=2 align_corners`.
    static func attributes(of op: Op) -> String {
        switch op {
        case .pool(let a): return pool(a)
        case .adaptivePool(let a):
            return "out=" + (a.outputSize.allSatisfy { $0 != nil } ? list(a.outputSize.map { $0 ?? 0 })
                                                                     : a.outputSize.map { $0.map(String.init) ?? "?" }.joined(separator: "x"))
        case .pad(let p):
            // F.pad's order: last dim first, (begin, end) per dim.
            let pairs = zip(p.begin, p.end).reversed().flatMap { [$0.0, $0.1] }
            var parts = ["mode=\(p.mode.rawValue)", "pad=(" + pairs.map(String.init).joined(separator: ", ") + ")"]
            if p.mode == .constant, p.value != 0 { parts.append("value=\(pythonRepr(p.value))") }
            return parts.joined(separator: " ")
        case .resize(let a): return resize(a)
        default: return ""
        }
    }

    private static func pool(_ a: PoolAttributes) -> String {
        var parts = ["k=\(list(a.kernelSize))", "s=\(list(a.stride))"]
        if a.padBegin == a.padEnd {
            if a.padBegin.contains(where: { $0 != 0 }) { parts.append("p=\(list(a.padBegin))") }
        } else {
            parts.append("p=\(list(a.padBegin))/\(list(a.padEnd))")
        }
        if a.dilation.contains(where: { $0 != 1 }) { parts.append("d=\(list(a.dilation))") }
        if a.ceilMode { parts.append("ceil") }
        if a.kind == .average, !a.countIncludePad { parts.append("count_include_pad=false") }
        if let d = a.divisorOverride { parts.append("divisor=\(d)") }
        return parts.joined(separator: " ")
    }

    private static func resize(_ a: ResizeAttributes) -> String {
        let shape = ResizeShapeFunction(attributes: a, input: [])
        var parts = ["mode=\(shape.modeName)"]
        if let sizes = a.sizes { parts.append("size=\(list(sizes))") }
        if let scales = a.scales {
            parts.append("scale=" + (Set(scales).count == 1 ? pythonRepr(scales[0]) : scales.map { pythonRepr($0) }.joined(separator: "x")))
        }
        switch (a.mode, a.coordinateTransform, a.nearestRounding) {
        case (.linear, .alignCorners, _): parts.append("align_corners")
        case (.linear, .halfPixel, _), (.nearest, .asymmetric, .floor), (.nearest, .halfPixel, .roundPreferCeil): break
        default: parts.append("coord=\(a.coordinateTransform.rawValue)" + (a.mode == .nearest ? " round=\(a.nearestRounding.rawValue)" : ""))
        }
        return parts.joined(separator: " ")
    }

    /// Max/avg pooling: one comparison or add per window tap; adaptive pooling: one per input
    /// element; padding and nearest resizing move data only; linear resizing: a multiply-add per corner.
    static func flopFactors(_ op: Op, inCount: Int, outCount: Int) -> [Int]? {
        switch op {
        case .pool(let a): return [outCount, Limits.product(a.kernelSize) ?? 0]
        case .adaptivePool: return [inCount]
        case .pad: return [0]
        case .resize(let a): return a.mode == .nearest ? [0] : [2, outCount, 1 << max(0, min(3, a.scales?.count ?? a.sizes?.count ?? 0))]
        default: return nil
        }
    }
}
