/// The parsed (not yet checked) form of a `.convnet` file.

/// A value with the place it was written.
struct Located<Value: Sendable>: Sendable {
    var value: Value
    var location: SourceLocation
}

/// An argument value as written: `3`, `0.5`, `(3, 3)`, `"same"`, `true`, `None`, or a value name.
indirect enum ArgValue: Sendable {
    case integer(Int)
    case float(Double)
    case string(String)
    case boolean(Bool)
    case none
    case name(String)
    case tuple([Located<ArgValue>])

    /// Python-like rendering, used inside other messages: `3`, `'x'`, `(1, 2)`.
    var rendered: String {
        switch self {
        case .integer(let v): return String(v)
        case .float(let v): return pythonRepr(v)
        case .string(let s): return quoted(s)
        case .boolean(let b): return b ? "true" : "false"
        case .none: return "None"
        case .name(let s): return s
        case .tuple(let items):
            let inner = items.map(\.value.rendered).joined(separator: ", ")
            return items.count == 1 ? "(\(inner),)" : "(\(inner))"
        }
    }

    /// How "got X" messages name this value: `integer 3`, `string 'x'`, `tuple (1, 2)`.
    var described: String {
        switch self {
        case .integer: return "integer \(rendered)"
        case .float: return "float \(rendered)"
        case .string: return "string \(rendered)"
        case .boolean: return "boolean \(rendered)"
        case .none: return "None"
        case .name(let s): return "name '\(s)'"
        case .tuple: return "tuple \(rendered)"
        }
    }
}

/// `key=value` inside a layer call.
struct KeywordArgument: Sendable {
    var key: Located<String>
    var value: Located<ArgValue>
}

/// `name = Op(positional..., key=value...)`.
struct LayerStatement: Sendable {
    var name: Located<String>
    var op: Located<String>
    var positional: [Located<ArgValue>]
    var keywords: [KeywordArgument]
}

/// One line of a `.convnet` file.
enum Statement: Sendable {
    /// `input x: [N, 3, 32, 32]`; dims are integers or symbol names.
    case input(name: Located<String>, dims: [Located<ArgValue>])
    /// `weights "tiny.npz"`; `keyword` is where `weights` was written.
    case weights(path: Located<String>, keyword: SourceLocation)
    /// `output a, b`.
    case output([Located<String>])
    case layer(LayerStatement)
}
