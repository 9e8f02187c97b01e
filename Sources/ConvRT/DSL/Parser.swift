/// Recursive-descent parser: `.convnet` text to `Statement`s, checking syntax only.
///
/// One statement per line. Names, types and arguments are checked later, in lowering;
/// the only checks here are those Python makes at parse time (argument order, repeats).
struct Parser {
    private var lexer: Lexer
    private var token: Token
    /// How many `(`/`[` the current value is inside; bounded so hostile input cannot overflow the stack.
    private var nesting = 0
    private static let maxNesting = 16

    init(_ text: String, file: String) throws(ConvRTError) {
        lexer = Lexer(text, file: file)
        token = try lexer.next()
    }

    /// All statements, and where the file ends (for errors about the file as a whole).
    mutating func parseFile() throws(ConvRTError) -> (statements: [Statement], end: SourceLocation) {
        var statements: [Statement] = []
        while true {
            while token.kind == .newline { try advance() }
            if token.kind == .endOfFile { return (statements, token.location) }
            statements.append(try statement())
            if token.kind != .endOfFile { try expect(.newline, "end of line") }
        }
    }

    // MARK: Statements

    private mutating func statement() throws(ConvRTError) -> Statement {
        guard case .name(let word) = token.kind else { throw unexpected("a statement") }
        let first = Located(value: word, location: token.location)
        try advance()
        if token.kind == .equals { return .layer(try layer(named: first)) }
        switch word {
        case "input": return try input()
        case "weights": return try weights(keyword: first.location)
        case "output": return .output(try outputNames())
        default: throw unexpected("'='")
        }
    }

    private mutating func input() throws(ConvRTError) -> Statement {
        let name = try name("an input name")
        try expect(.colon, "':'")
        try expect(.leftBracket, "'['")
        var dims: [Located<ArgValue>] = []
        while token.kind != .rightBracket {
            dims.append(try dimension())
            guard token.kind == .comma else { break }
            try advance()
        }
        try expect(.rightBracket, "']'")
        return .input(name: name, dims: dims)
    }

    private mutating func dimension() throws(ConvRTError) -> Located<ArgValue> {
        let location = token.location
        switch token.kind {
        case .integer(let v):
            try advance()
            return Located(value: .integer(v), location: location)
        case .name(let s) where literal(s) == nil:
            try advance()
            return Located(value: .name(s), location: location)
        default:
            throw unexpected("a dimension (an integer or a name)")
        }
    }

    private mutating func weights(keyword: SourceLocation) throws(ConvRTError) -> Statement {
        guard case .string(let path) = token.kind else { throw unexpected("a quoted path after 'weights'") }
        let located = Located(value: path, location: token.location)
        try advance()
        return .weights(path: located, keyword: keyword)
    }

    private mutating func outputNames() throws(ConvRTError) -> [Located<String>] {
        var names = [try name("an output name")]
        while token.kind == .comma {
            try advance()
            names.append(try name("an output name"))
        }
        return names
    }

    // MARK: Layer calls

    /// `name = Op(args)`, with `token` on the `=`. Errors after the op name carry `Op 'name'`.
    private mutating func layer(named name: Located<String>) throws(ConvRTError) -> LayerStatement {
        try advance()
        let op = try self.name("a layer name")
        var statement = LayerStatement(name: name, op: op, positional: [], keywords: [])
        do throws(ConvRTError) {
            try expect(.leftParen, "'('")
            while token.kind != .rightParen {
                try argument(into: &statement)
                guard token.kind == .comma else { break }
                try advance()
            }
            guard token.kind == .rightParen else { throw unexpected("')'") }
        } catch {
            throw error.located(at: nil, context: "\(op.value) '\(name.value)'")
        }
        try advance()  // past `)`: what follows is no longer part of the call
        return statement
    }

    /// One `value` or `key=value`, appended to `statement`.
    private mutating func argument(into statement: inout LayerStatement) throws(ConvRTError) {
        let start = token
        if case .name(let key) = start.kind {
            try advance()
            if token.kind == .equals {
                try advance()
                try addKeyword(Located(value: key, location: start.location), value: try value(), to: &statement)
                return
            }
            try addPositional(Located(value: literal(key) ?? .name(key), location: start.location), to: &statement)
            return
        }
        try addPositional(try value(), to: &statement)
    }

    private func addKeyword(
        _ key: Located<String>, value: Located<ArgValue>, to statement: inout LayerStatement
    ) throws(ConvRTError) {
        if statement.keywords.contains(where: { $0.key.value == key.value }) {
            throw ConvRTError("keyword argument repeated: '\(key.value)'", at: key.location)
        }
        statement.keywords.append(KeywordArgument(key: key, value: value))
    }

    private func addPositional(_ value: Located<ArgValue>, to statement: inout LayerStatement) throws(ConvRTError) {
        guard statement.keywords.isEmpty else {
            throw ConvRTError("positional argument follows keyword argument", at: value.location)
        }
        statement.positional.append(value)
    }

    // MARK: Values

    /// An integer, float, string, `true`/`false`/`None`, name, or a tuple `(a, b)` / list `[a, b]` of values.
    private mutating func value() throws(ConvRTError) -> Located<ArgValue> {
        let location = token.location
        let kind = token.kind
        switch kind {
        case .integer(let v):
            try advance()
            return Located(value: .integer(v), location: location)
        case .float(let v):
            try advance()
            return Located(value: .float(v), location: location)
        case .string(let s):
            try advance()
            return Located(value: .string(s), location: location)
        case .name(let s):
            try advance()
            return Located(value: literal(s) ?? .name(s), location: location)
        case .leftParen, .leftBracket:
            return try sequence(close: kind == .leftParen ? .rightParen : .rightBracket)
        default:
            throw unexpected("a value")
        }
    }

    /// `(a, b)`, `(a,)`, `()`, `[a, b]`. Like Python, `(a)` is just `a`.
    private mutating func sequence(close: Token.Kind) throws(ConvRTError) -> Located<ArgValue> {
        let location = token.location
        guard nesting < Self.maxNesting else {
            throw ConvRTError("values nested more than \(Self.maxNesting) deep", at: location)
        }
        nesting += 1
        defer { nesting -= 1 }
        try advance()
        var items: [Located<ArgValue>] = []
        var trailingComma = false
        while token.kind != close {
            items.append(try value())
            trailingComma = token.kind == .comma
            guard trailingComma else { break }
            try advance()
        }
        try expect(close, close == .rightParen ? "')'" : "']'")
        if close == .rightParen, items.count == 1, !trailingComma, let only = items.first {
            return Located(value: only.value, location: location)
        }
        return Located(value: .tuple(items), location: location)
    }

    /// The constants spelled like names: `true`, `True`, `false`, `False`, `None`, `none`.
    private func literal(_ word: String) -> ArgValue? {
        switch word {
        case "true", "True": return .boolean(true)
        case "false", "False": return .boolean(false)
        case "None", "none": return ArgValue.none
        default: return nil
        }
    }

    // MARK: Tokens

    private mutating func advance() throws(ConvRTError) {
        token = try lexer.next()
    }

    private mutating func name(_ what: String) throws(ConvRTError) -> Located<String> {
        guard case .name(let s) = token.kind else { throw unexpected(what) }
        let located = Located(value: s, location: token.location)
        try advance()
        return located
    }

    private mutating func expect(_ kind: Token.Kind, _ what: String) throws(ConvRTError) {
        guard token.kind == kind else { throw unexpected(what) }
        try advance()
    }

    private func unexpected(_ what: String) -> ConvRTError {
        ConvRTError("expected \(what) but found \(token.description)", at: token.location)
    }
}
