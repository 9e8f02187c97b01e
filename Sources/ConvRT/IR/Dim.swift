/// One dimension of a tensor type: a concrete size, or a symbol bound at run time.
///
/// Symbols are names declared on graph inputs (`N`, `H`) or, after shape inference,
/// display expressions derived from them (`(H+1)/2+1`). Only names declared on inputs
/// are ever bound; derived expressions are resolved by re-running shape inference on
/// concrete shapes.
public enum Dim: Hashable, Sendable, CustomStringConvertible {
    case known(Int)
    case symbol(String)

    /// The concrete size, or `nil` for a symbol.
    public var value: Int? {
        if case .known(let v) = self { return v }
        return nil
    }

    public var description: String {
        switch self {
        case .known(let v): return String(v)
        case .symbol(let s): return s
        }
    }
}

/// A tensor shape whose dimensions may be symbolic.
public typealias SymbolicShape = [Dim]

extension Array where Element == Dim {
    /// The concrete shape, or `nil` if any dimension is symbolic.
    public var concrete: [Int]? {
        var out: [Int] = []
        out.reserveCapacity(count)
        for d in self {
            guard let v = d.value else { return nil }
            out.append(v)
        }
        return out
    }

    /// Renders a shape as `[N, 3, 32, 32]`.
    public var rendered: String { "[" + map(\.description).joined(separator: ", ") + "]" }
}

extension Array where Element == Int {
    /// The shape as all-concrete dims.
    public var dims: [Dim] { map(Dim.known) }
}
