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
        var u = [[Float]](repeating: [Float](repeating: 0, count: cout * cinG), count: 36)
        weight.data.withUnsafeBufferPointer { w in
            for o in 0..<cout {
                for c in 0..<cinG {
                    let tile = transformed(w.baseAddress! + (o * cinG + c) * 9)
                    for p in 0..<36 { u[p][o * cinG + c] = Float(tile[p]) }
                }
            }
        }
        return (0..<groups).flatMap { group in
            (0..<36).map { p in
                u[p].withUnsafeBufferPointer { rows in
                    PackedMatrixA(rows: coutG, columns: cinG, data: rows.baseAddress! + group * coutG * cinG)
                }
            }
        }
    }

    /// `G k G^T` (6x6, row-major) of one 3x3 kernel `k` (row-major), in `Double`.
    static func transformed(_ k: UnsafePointer<Float>) -> [Double] {
        var gk = [[Double]](repeating: [0, 0, 0], count: 6)  // G k: 6x3
        for i in 0..<6 {
            for b in 0..<3 {
                gk[i][b] = (0..<3).reduce(0.0) { $0 + g[i][$1] * Double(k[$1 * 3 + b]) }
            }
        }
        var out = [Double](repeating: 0, count: 36)
        for i in 0..<6 {
            for j in 0..<6 {
                out[i * 6 + j] = (0..<3).reduce(0.0) { $0 + gk[i][$1] * g[j][$1] }
            }
        }
        return out
    }
}
