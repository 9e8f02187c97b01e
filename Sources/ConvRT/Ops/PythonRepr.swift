/// Python's `repr` of a float, so messages print numbers the way PyTorch's do:
/// `0.001`, `1e-05`, `-1.0`, `1e+16`, `1000000000000000.0`, `inf`, `nan`.
///
/// The digits are the shortest that round-trip (Swift and CPython agree on those); the layout
/// follows CPython's `float_repr_style = 'short'`: scientific when the decimal point would sit
/// more than 4 places left of the first digit or more than 16 places right of it.
func pythonRepr(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
    return (value < 0 ? "-" : "") + pythonLayout(shortestDigits(value.magnitude.description))
}

/// `pythonRepr` of a `Float`, using the shortest digits that round-trip as a `Float`
/// (what a literal like `0.1` stored as float32 should print as).
func pythonRepr(_ value: Float) -> String {
    if value.isNaN || value.isInfinite || value == 0 { return pythonRepr(Double(value)) }
    return (value < 0 ? "-" : "") + pythonLayout(shortestDigits(value.magnitude.description))
}

/// Splits Swift's description of a positive finite number (`1.5e-05`, `100.0`) into significant
/// digits and the position of the decimal point: value = 0.DIGITS x 10^point.
private func shortestDigits(_ text: String) -> (digits: [Character], point: Int) {
    let parts = text.split(separator: "e", maxSplits: 1)
    let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
    let mantissa = parts.first.map(String.init) ?? text
    let halves = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
    let integer = halves.first.map(Array.init) ?? []
    let fraction = halves.count > 1 ? Array(halves[1]) : []
    var digits = integer + fraction
    var point = integer.count + exponent
    while digits.first == "0" {
        digits.removeFirst()
        point -= 1
    }
    while digits.last == "0" { digits.removeLast() }
    return (digits.isEmpty ? ["0"] : digits, point)
}

private func pythonLayout(_ number: (digits: [Character], point: Int)) -> String {
    let (digits, point) = number
    if point < -3 || point > 16 {
        let exponent = point - 1
        let mantissa = String(digits.prefix(1)) + (digits.count > 1 ? "." + String(digits.dropFirst()) : "")
        let magnitude = String(abs(exponent))
        return mantissa + "e" + (exponent < 0 ? "-" : "+") + (magnitude.count < 2 ? "0" : "") + magnitude
    }
    if point <= 0 { return "0." + String(repeating: "0", count: -point) + String(digits) }
    if point < digits.count { return String(digits.prefix(point)) + "." + String(digits.dropFirst(point)) }
    return String(digits) + String(repeating: "0", count: point - digits.count) + ".0"
}
