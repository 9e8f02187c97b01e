/// Splits `.convnet` text into tokens, one at a time, tracking line and column.
///
/// Columns count Unicode scalars from 1. `#` starts a comment to the end of the line;
/// spaces, tabs and `\r` are skipped; a leading byte-order mark is ignored.
struct Lexer {
    private let scalars: [Unicode.Scalar]
    private let file: String
    private var index = 0
    private var line = 1
    private var column = 1

    init(_ text: String, file: String) {
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        self.scalars = scalars
        self.file = file
    }

    /// The next token; `.endOfFile` forever once the text is used up.
    mutating func next() throws(ConvRTError) -> Token {
        skipBlanksAndComment()
        let start = here
        guard let c = peek() else { return Token(kind: .endOfFile, location: start) }
        if let kind = punctuation(c) {
            advance()
            return Token(kind: kind, location: start)
        }
        if c == "\"" || c == "'" { return try string(quote: c, start: start) }
        if startsNumber(c) { return try number(start: start) }
        if isNameStart(c) { return name(start: start) }
        throw ConvRTError("unexpected character \(describe(c))", at: start)
    }

    private var here: SourceLocation { SourceLocation(file: file, line: line, column: column) }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    private mutating func advance() {
        guard let c = peek() else { return }
        index += 1
        if c == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
    }

    private mutating func skipBlanksAndComment() {
        while let c = peek(), c == " " || c == "\t" || c == "\r" { advance() }
        if peek() == "#" {
            while let c = peek(), c != "\n" { advance() }
        }
    }

    private func punctuation(_ c: Unicode.Scalar) -> Token.Kind? {
        switch c {
        case "\n": return .newline
        case "(": return .leftParen
        case ")": return .rightParen
        case "[": return .leftBracket
        case "]": return .rightBracket
        case ",": return .comma
        case "=": return .equals
        case ":": return .colon
        default: return nil
        }
    }

    /// A quoted string on one line. No escapes: paths are the main use, and they may hold `\`.
    private mutating func string(quote: Unicode.Scalar, start: SourceLocation) throws(ConvRTError) -> Token {
        advance()
        var text = String.UnicodeScalarView()
        while let c = peek(), c != quote, c != "\n" {
            text.append(c)
            advance()
        }
        guard peek() == quote else { throw ConvRTError("unterminated string", at: start) }
        advance()
        return Token(kind: .string(String(text)), location: start)
    }

    /// `3`, `-3`, `.5`, `-0.5`, `2.`, `1e-3`: at a digit, or at `-`/`.` followed by one.
    private func startsNumber(_ c: Unicode.Scalar) -> Bool {
        if isDigit(c) { return true }
        let next = peek(1)
        if c == "." { return next.map(isDigit) == true }
        guard c == "-", let next else { return false }
        return isDigit(next) || (next == "." && peek(2).map(isDigit) == true)
    }

    /// An integer or, with a fraction or an exponent, a float (Python's literal syntax, no `_`).
    private mutating func number(start: SourceLocation) throws(ConvRTError) -> Token {
        var text = ""
        var isFloat = false
        if peek() == "-" { take(into: &text) }
        takeDigits(into: &text)
        if peek() == "." {
            isFloat = true
            take(into: &text)
            takeDigits(into: &text)
        }
        if let e = peek(), e == "e" || e == "E", let next = peek(1),
           isDigit(next) || ((next == "+" || next == "-") && peek(2).map(isDigit) == true) {
            isFloat = true
            take(into: &text)
            if !isDigit(next) { take(into: &text) }
            takeDigits(into: &text)
        }
        if let c = peek(), isNameStart(c) || c == "." {
            // `3x`, `1.5.2`: report the whole run, not a confusing token split.
            while let c = peek(), isNameStart(c) || isDigit(c) || c == "." { take(into: &text) }
            throw ConvRTError("invalid number literal '\(text)'", at: start)
        }
        if isFloat {
            guard let value = Double(text), value.isFinite else {
                throw ConvRTError("float literal \(text) is too large", at: start)
            }
            return Token(kind: .float(value), location: start)
        }
        guard let value = Int(text) else { throw ConvRTError("integer literal \(text) is too large", at: start) }
        return Token(kind: .integer(value), location: start)
    }

    private mutating func take(into text: inout String) {
        guard let c = peek() else { return }
        text.unicodeScalars.append(c)
        advance()
    }

    private mutating func takeDigits(into text: inout String) {
        while let c = peek(), isDigit(c) { take(into: &text) }
    }

    /// Segments of letters, digits and `_` joined by `.`; only the first must not start with a digit.
    private mutating func name(start: SourceLocation) -> Token {
        var text = String.UnicodeScalarView()
        while true {
            while let c = peek(), isNameStart(c) || isDigit(c) {
                text.append(c)
                advance()
            }
            guard peek() == ".", let c = peek(1), isNameStart(c) || isDigit(c) else { break }
            text.append(".")
            advance()
        }
        return Token(kind: .name(String(text)), location: start)
    }

    private func describe(_ c: Unicode.Scalar) -> String {
        if c.properties.isWhitespace || c.value < 0x20 || c.value == 0x7F {
            return "U+" + String(c.value, radix: 16, uppercase: true).leftPadded(to: 4)
        }
        return quoted(String(c))
    }
}

private func isDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }

private func isNameStart(_ c: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_"
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
