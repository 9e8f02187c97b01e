extension ReferenceKernels {
    /// `out[i0, ..., ik] = x[maps[0][i0], ..., maps[k][ik]]`, or `fill` where any map entry is -1.
    /// One map per dim of `x` (the output's size along that dim): pad and nearest resize.
    static func gather(_ x: Tensor, maps: [[Int]], fill: Float) -> Tensor {
        let rank = x.rank
        var strides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * x.shape[d + 1] }
        let shape = maps.map(\.count)
        var index = [Int](repeating: 0, count: rank)
        return makeTensor(shape) { out in
            for o in 0..<out.count {
                var offset = 0
                for d in 0..<rank {
                    let source = maps[d][index[d]]
                    if source < 0 { offset = -1; break }
                    offset += source * strides[d]
                }
                out[o] = offset < 0 ? fill : x.data[offset]
                var d = rank - 1
                while d >= 0 {
                    index[d] += 1
                    if index[d] < shape[d] { break }
                    index[d] = 0
                    d -= 1
                }
            }
        }
    }

    /// Pads (or crops) the last `p.begin.count` dims with `p.mode` (see `PadShapeFunction.sourceIndex`).
    static func pad(_ x: Tensor, _ p: PadAttributes) -> Tensor {
        let lead = x.rank - p.begin.count
        let maps = x.shape.indices.map { d -> [Int] in
            guard d >= lead else { return Array(0..<x.shape[d]) }
            let i = d - lead
            let outSize = x.shape[d] + p.begin[i] + p.end[i]
            return (0..<outSize).map {
                PadShapeFunction.sourceIndex($0, size: x.shape[d], begin: p.begin[i], end: p.end[i], mode: p.mode)
            }
        }
        return gather(x, maps: maps, fill: p.value)
    }

    /// Upsample / Resize of the spatial dims (after the first two) to `outputShape`, with the
    /// per-dim coordinate mapping of `ResizeGeometry`. Linear mode sums the `2^n` corners with a
    /// non-zero weight, in Double.
    static func resize(_ x: Tensor, _ a: ResizeAttributes, outputShape: [Int]) -> Tensor {
        let n = x.rank - 2
        let inSpatial = Array(x.shape.dropFirst(2)), outSpatial = Array(outputShape.dropFirst(2))
        if a.mode == .nearest {
            let maps = [Array(0..<x.shape[0]), Array(0..<x.shape[1])] + (0..<n).map {
                ResizeGeometry.nearestIndices(a, dim: $0, inSize: inSpatial[$0], outSize: outSpatial[$0])
            }
            return gather(x, maps: maps, fill: 0)
        }
        let taps = (0..<3).map { i -> [LinearTap] in
            let d = i - (3 - n)
            guard d >= 0 else { return [LinearTap(i0: 0, i1: 0, w0: 1, w1: 0)] }
            return ResizeGeometry.linearTaps(a, dim: d, inSize: inSpatial[d], outSize: outSpatial[d])
        }
        let inSize = lift3(inSpatial, fill: 1)
        let planeSize = inSize.reduce(1, *)
        return makeTensor(outputShape) { out in
            var o = 0
            for plane in 0..<(x.shape[0] * x.shape[1]) {
                for td in taps[0] {
                    for th in taps[1] {
                        for tw in taps[2] {
                            var sum = 0.0
                            for (id, wd) in [(td.i0, td.w0), (td.i1, td.w1)] {
                                for (ih, wh) in [(th.i0, th.w0), (th.i1, th.w1)] {
                                    for (iw, ww) in [(tw.i0, tw.w0), (tw.i1, tw.w1)] where wd * wh * ww != 0 {
                                        let v = x.data[plane * planeSize + (id * inSize[1] + ih) * inSize[2] + iw]
                                        sum += wd * wh * ww * Double(v)
                                    }
                                }
                            }
                            out[o] = Float(sum)
                            o += 1
                        }
                    }
                }
            }
        }
    }
}
