extension ReferenceKernels {
    /// Pads the spatial dims of a batched tensor with `torch.nn.functional.pad` semantics.
    ///
    /// Layout: `(N, C, *spatial)` -> `(N, C, *(spatial + begin + end))`, spatial rank 1-3.
    /// - Parameters:
    ///   - begin: elements added before each spatial dim (`>= 0`), outermost dim first.
    ///   - end: elements added after each spatial dim (`>= 0`).
    ///   - mode: `zeros` fills 0; `reflect` mirrors without repeating the edge (pad < size);
    ///     `replicate` repeats the edge; `circular` wraps around (pad <= size).
    ///     The caller guarantees these limits.
    static func pad(_ x: Tensor, begin: [Int], end: [Int], mode: ConvAttributes.PaddingMode) -> Tensor {
        let inSize = spatialShape(x)
        precondition(begin.count == inSize.count && end.count == inSize.count, "pad: one begin/end per spatial dim")
        // Negative padding crops, as F.pad does.
        let outSize = inSize.indices.map { inSize[$0] + begin[$0] + end[$0] }
        precondition(outSize.allSatisfy { $0 >= 0 }, "pad: cropping \(begin) \(end) exceeds \(inSize)")
        let (i3, o3, b3) = (lift3(inSize, fill: 1), lift3(outSize, fill: 1), lift3(begin, fill: 0))
        // For each output coordinate along each dim: its source coordinate, or -1 for a zero.
        let maps = (0..<3).map { axis in
            (0..<o3[axis]).map { padSource($0 - b3[axis], size: i3[axis], mode: mode) }
        }
        let planes = x.shape[0] * x.shape[1]
        return makeTensor([x.shape[0], x.shape[1]] + outSize) { out in
            x.data.withUnsafeBufferPointer { src in
                var o = 0
                for plane in 0..<planes {
                    let planeBase = plane * i3[0] * i3[1] * i3[2]
                    for sd in maps[0] {
                        for sh in maps[1] {
                            let rowBase = planeBase + (sd * i3[1] + sh) * i3[2]
                            for sw in maps[2] {
                                out[o] = sd < 0 || sh < 0 || sw < 0 ? 0 : src[rowBase + sw]
                                o += 1
                            }
                        }
                    }
                }
            }
        }
    }

    /// Where padded coordinate `i` (relative to the unpadded start, so `-begin ..< size+end`)
    /// reads from in a dim of `size` elements; -1 means "zero".
    static func padSource(_ i: Int, size n: Int, mode: ConvAttributes.PaddingMode) -> Int {
        if (0..<n).contains(i) { return i }
        let source: Int
        switch mode {
        case .zeros: return -1
        case .reflect: source = i < 0 ? -i : 2 * (n - 1) - i  // mirror without the edge: -1 -> 1, n -> n-2
        case .replicate: source = min(max(i, 0), n - 1)
        case .circular: source = i < 0 ? i + n : i - n  // wraps at most once
        }
        precondition((0..<n).contains(source), "\(mode) padding to \(i) is invalid for size \(n)")
        return source
    }
}
