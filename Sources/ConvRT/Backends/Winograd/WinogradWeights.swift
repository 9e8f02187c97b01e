/// The F(4x4, 3x3) weight transform `U = G g G^T`, done once when the plan is made.
enum WinogradWeights {
    /// `G` (6x3) for the interpolation points 0, ±1, ±2 and infinity (Lavin & Gray), matching
    /// `B^T` and `A^T` in winograd_portable.c.
    static let g: [[Double]] = [
        [1.0 / 4, 0, 0],
        [-1.0 / 6, -1.0 / 6, -1.0 / 6],
        [-1.0 / 6, 1.0 / 6, -1.0 / 6],
        [1.0 / 24, 1.0 / 12, 1.0 / 6],
        [1.0 / 24, -1.0 / 12, 1.0 / 6],
        [0, 0, 1],
    ]

    /// `weight` `[Cout, Cin/groups, 3, 3]` -> for each group and position `p = 6i + k`, the
    /// matrix `U[p][o][c] = (G w[o, c] G^T)[i][k]` over the group's channels, packed for the SGEMM.
    static func transform(_ weight: Tensor, groups: Int) -> [PackedMatrixA] {
        let cout = weight.shape[0], cinG = weight.shape[1], coutG = cout / groups
        let count = cout * cinG
        var u = [Float](repeating: 0, count: 36 * count)  // [36][Cout][Cin/g]
        weight.data.withUnsafeBufferPointer { w in
            u.withUnsafeMutableBufferPointer { u in
                let gFlat = g.flatMap { $0 }
                var gk = [Double](repeating: 0, count: 18)
                for kernel in 0..<count {
                    let k = w.baseAddress! + kernel * 9
                    for i in 0..<6 {  // G k: 6x3
                        for b in 0..<3 {
                            gk[i * 3 + b] = gFlat[i * 3] * Double(k[b]) + gFlat[i * 3 + 1] * Double(k[3 + b])
                                + gFlat[i * 3 + 2] * Double(k[6 + b])
                        }
                    }
                    for i in 0..<6 {  // (G k) G^T
                        for j in 0..<6 {
                            let value = gk[i * 3] * gFlat[j * 3] + gk[i * 3 + 1] * gFlat[j * 3 + 1] + gk[i * 3 + 2] * gFlat[j * 3 + 2]
                            u[(i * 6 + j) * count + kernel] = Float(value)
                        }
                    }
                }
            }
        }
        return u.withUnsafeBufferPointer { u in
            (0..<groups).flatMap { group in
                (0..<36).map { p in
                    PackedMatrixA(rows: coutG, columns: cinG, data: u.baseAddress! + p * count + group * coutG * cinG)
                }
            }
        }
    }
}
