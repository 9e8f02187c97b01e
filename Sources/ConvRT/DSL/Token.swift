/// One lexical token of a `.convnet` file.
struct Token: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        /// Dot-separated segments: `stem`, `layer1.0.conv1`, also keywords like `input`, `true`.
        case name(String)
        /// A decimal integer, with its sign when written `-3`.
        case integer(Int)
        /// A decimal float (`0.5`, `1e-3`, `-2.`), with its sign when written `-0.5`.
        case float(Double)
        /// A single- or double-quoted string, quotes removed.
        case string(String)
        case leftParen, rightParen, leftBracket, rightBracket
        case comma, equals, colon
        case newline
        case endOfFile
    }

    var kind: Kind
    /// Where the token starts.
    var location: SourceLocation

    /// How "expected X but found Y" messages name this token.
    var description: String {
        switch kind {
        case .name(let s): return "name '\(s)'"
        case .integer(let v): return "integer \(v)"
        case .float(let v): return "float \(pythonRepr(v))"
        case .string(let s): return "string \(quoted(s))"
        case .leftParen: return "'('"
        case .rightParen: return "')'"
        case .leftBracket: return "'['"
        case .rightBracket: return "']'"
        case .comma: return "','"
        case .equals: return "'='"
        case .colon: return "':'"
        case .newline: return "newline"
        case .endOfFile: return "end of file"
        }
    }
}

/// Renders a string the way Python's `repr` does: single quotes unless it contains one.
func quoted(_ s: String) -> String {
    s.contains("'") && !s.contains("\"") ? "\"\(s)\"" : "'\(s)'"
}
