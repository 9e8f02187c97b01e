/// Output-size and padding arithmetic shared by shape inference, every backend, Unfold and Fold.
///
/// All divisions round toward negative infinity, as ATen's `div_rtn` does, so that
/// too-small inputs give the negative sizes PyTorch prints in its error messages.
enum ConvGeometry {
    /// Extent of a dilated kernel: `d*(k-1)+1`.
    static func dilatedExtent(kernel: Int, dilation: Int) -> Int {
        dilation * (kernel - 1) + 1
    }

    /// Sliding-window output length: `floor((L + pb + pe - d*(k-1) - 1) / s) + 1`.
    static func convOutputLength(input: Int, kernel: Int, stride: Int, dilation: Int, padBegin: Int, padEnd: Int) -> Int {
        floorDiv(input + padBegin + padEnd - dilatedExtent(kernel: kernel, dilation: dilation), stride) + 1
    }

    /// Transposed-convolution output length: `(L-1)*s - 2p + d*(k-1) + output_padding + 1`.
    static func transposedOutputLength(input: Int, kernel: Int, stride: Int, dilation: Int, padding: Int, outputPadding: Int) -> Int {
        (input - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1
    }

    /// `padding="same"` split for one dim: total `d*(k-1)`, the odd element at the end (PyTorch, TF).
    static func samePadding(kernel: Int, dilation: Int) -> (begin: Int, end: Int) {
        let total = dilation * (kernel - 1)
        return (total / 2, total - total / 2)
    }

    /// Integer division rounding toward negative infinity.
    static func floorDiv(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

/// Builders for the display expressions that symbolic spatial dims turn into.
enum SymbolicArithmetic {
    /// `term + constant`, rendered compactly (`H`, `H+2`, `H-1`).
    static func offset(_ term: String, _ constant: Int) -> String {
        constant == 0 ? term : constant > 0 ? "\(term)+\(constant)" : "\(term)\(constant)"
    }

    /// Wraps an expression in parentheses unless it is a plain name.
    static func operand(_ expr: String) -> String {
        expr.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." } ? expr : "(\(expr))"
    }

    /// Symbolic `floor((L + a) / s) + 1`.
    static func slidingLength(_ l: String, numeratorOffset a: Int, stride s: Int) -> String {
        s == 1 ? offset(l, a + 1) : "\(operand(offset(l, a)))/\(s)+1"
    }

    /// Symbolic `L*s + c`.
    static func scaled(_ l: String, by s: Int, plus c: Int) -> String {
        s == 1 ? offset(l, c) : offset("\(operand(l))*\(s)", c)
    }

    /// The longest display expression kept whole. Expressions are for display only (shapes are
    /// re-inferred from bound input sizes), but each layer wraps its input's: without a cap a long
    /// chain of layers on a symbolic dim would take quadratic time and memory.
    static let maxLength = 96

    /// `dim`, with a symbolic expression longer than `maxLength` shortened to its ends around a
    /// hash of the whole (so different expressions stay different where symbols are compared).
    static func bounded(_ dim: Dim) -> Dim {
        guard case .symbol(let expr) = dim, expr.utf8.count > maxLength else { return dim }
        let scalars = Array(expr.unicodeScalars)
        guard scalars.count > maxLength else { return dim }
        let hash = String(fnv1a(expr), radix: 16)
        func text(_ s: ArraySlice<Unicode.Scalar>) -> String { String(String.UnicodeScalarView(s)) }
        return .symbol(text(scalars.prefix(40)) + "…" + hash + "…" + text(scalars.suffix(32)))
    }
}
