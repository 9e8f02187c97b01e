/// A product of dims kept as a known factor times symbolic factors, so that shape functions
/// which multiply and divide dims (Flatten, Reshape's `-1`) stay exact over symbols: the
/// element count of `[N, 512, 1, 1]` divided by `512` is `N`.
///
/// Symbols are opaque: `(H+1)/2+1` is one factor. Only equal symbols cancel.
struct SymbolicProduct: Equatable {
    /// The product of the known dims.
    var factor: Int
    /// The symbolic dims, sorted (a multiset).
    var symbols: [String]

    /// The product of `dims`; throws when the known part overflows.
    init(_ dims: [Dim]) throws {
        var known: [Int] = []
        var symbols: [String] = []
        for d in dims {
            switch d {
            case .known(let v): known.append(v)
            case .symbol(let s): symbols.append(s)
            }
        }
        guard let factor = Limits.product(known) else {
            throw ConvRTError("the shape \(dims.rendered) has more elements than fit in a 64-bit integer")
        }
        self.factor = factor
        self.symbols = symbols.sorted()
    }

    private init(factor: Int, symbols: [String]) {
        self.factor = factor
        self.symbols = symbols
    }

    /// Zero whatever the symbols are bound to.
    var isZero: Bool { factor == 0 }

    /// The product as one dim: known, or a display expression such as `4*H*W`.
    var dim: Dim {
        if symbols.isEmpty || factor == 0 { return .known(factor) }
        return .symbol(rendered)
    }

    /// `4*H*W`, `N`.
    var rendered: String {
        let parts = (factor == 1 && !symbols.isEmpty ? [] : [String(factor)]) + symbols.map(SymbolicArithmetic.operand)
        return parts.joined(separator: "*")
    }

    /// `self / other` when the division is exact for every binding: `other`'s symbols all
    /// cancel and its factor divides this one. `nil` otherwise (or when `other` is zero).
    func exactlyDivided(by other: SymbolicProduct) -> SymbolicProduct? {
        guard other.factor != 0, factor % other.factor == 0 else { return nil }
        var remaining = symbols
        for s in other.symbols {
            guard let i = remaining.firstIndex(of: s) else { return nil }
            remaining.remove(at: i)
        }
        return SymbolicProduct(factor: factor / other.factor, symbols: remaining)
    }

    /// `self / other` as a display dim when it cannot be exact for every binding
    /// (`(3*H*W)/6` after cancelling common symbols and the factors' gcd).
    func displayQuotient(by other: SymbolicProduct) -> Dim {
        var numerator = symbols, denominator: [String] = []
        for s in other.symbols {
            if let i = numerator.firstIndex(of: s) { numerator.remove(at: i) } else { denominator.append(s) }
        }
        let g = gcd(factor, other.factor)
        let top = SymbolicProduct(factor: factor / max(g, 1), symbols: numerator)
        let bottom = SymbolicProduct(factor: other.factor / max(g, 1), symbols: denominator)
        if bottom.factor == 1, bottom.symbols.isEmpty { return top.dim }
        return .symbol("\(SymbolicArithmetic.operand(top.rendered))/\(SymbolicArithmetic.operand(bottom.rendered))")
    }

    private func gcd(_ a: Int, _ b: Int) -> Int {
        var (x, y) = (abs(a), abs(b))
        while y != 0 { (x, y) = (y, x % y) }
        return x
    }
}

/// The sum of dims (Concat's axis): known when all are, else a display expression `A+B+3`.
func symbolicSum(_ dims: [Dim]) -> Dim {
    var known = 0
    var symbols: [String] = []
    for d in dims {
        switch d {
        case .known(let v): known += v
        case .symbol(let s): symbols.append(SymbolicArithmetic.operand(s))
        }
    }
    if symbols.isEmpty { return .known(known) }
    return .symbol(SymbolicArithmetic.offset(symbols.joined(separator: "+"), known))
}
