/// The keyword arguments of one layer call, with typed readers that report errors at the value.
///
/// Readers only check types and tuple lengths; numeric ranges (negative padding, groups,
/// divisibility) are left to shape inference so `.pb` models get the same checks.
struct LayerArguments {
    /// The layer's type name, for messages: `Conv2d`.
    let layer: String
    /// Where the layer's type was written: missing arguments are reported there.
    let anchor: SourceLocation
    private let values: [String: Located<ArgValue>]

    init(layer: String, anchor: SourceLocation, keywords: [KeywordArgument]) {
        self.layer = layer
        self.anchor = anchor
        var values: [String: Located<ArgValue>] = [:]
        for keyword in keywords { values[keyword.key.value] = keyword.value }
        self.values = values
    }

    /// The value given for `key`, if any.
    subscript(key: String) -> Located<ArgValue>? { values[key] }

    /// An integer, or `nil` when absent.
    func int(_ key: String) throws(ConvRTError) -> Int? {
        guard let given = values[key] else { return nil }
        guard case .integer(let v) = given.value else {
            throw typeError(key, "an integer", given)
        }
        return v
    }

    /// An integer that must be given.
    func requiredInt(_ key: String) throws(ConvRTError) -> Int {
        guard let v = try int(key) else { throw missing(key) }
        return v
    }

    /// A number: an integer or a float, as Python accepts an `int` where a `float` is expected.
    /// `rendered` is how Python prints the value as given (`2` for an int, `2.0` for a float).
    func number(_ key: String) throws(ConvRTError) -> (value: Double, rendered: String)? {
        guard let given = values[key] else { return nil }
        switch given.value {
        case .integer(let v): return (Double(v), given.value.rendered)
        case .float(let v): return (v, given.value.rendered)
        default: throw typeError(key, "a number", given)
        }
    }

    /// Like `number`, but `None` is also accepted (and read as absent).
    func optionalNumber(_ key: String) throws(ConvRTError) -> Double? {
        guard let given = values[key] else { return nil }
        switch given.value {
        case .integer(let v): return Double(v)
        case .float(let v): return v
        case .none: return nil
        default: throw typeError(key, "a number or None", given)
        }
    }

    /// "missing required argument 'out_channels'", at the layer's type name.
    func missing(_ key: String) -> ConvRTError {
        ConvRTError("missing required argument '\(key)'", at: anchor)
    }

    /// `true`/`false`, or `nil` when absent.
    func bool(_ key: String) throws(ConvRTError) -> Bool? {
        guard let given = values[key] else { return nil }
        guard case .boolean(let b) = given.value else {
            throw typeError(key, "true or false", given)
        }
        return b
    }

    /// A string, or `nil` when absent.
    func string(_ key: String) throws(ConvRTError) -> Located<String>? {
        guard let given = values[key] else { return nil }
        guard case .string(let s) = given.value else {
            throw typeError(key, "a string", given)
        }
        return Located(value: s, location: given.location)
    }

    /// A convolution list (`_single`/`_pair`/`_triple`): an int or 1-tuple is repeated `rank`
    /// times; other tuples must have `rank` entries, as aten's `expand_param_if_needed` requires.
    func convList(_ key: String, rank: Int) throws(ConvRTError) -> [Int]? {
        guard let given = values[key] else { return nil }
        return try convList(key, given, rank: rank)
    }

    func convList(_ key: String, _ given: Located<ArgValue>, rank: Int) throws(ConvRTError) -> [Int] {
        let list = try ints(key, given)
        if list.count == 1, let only = list.first { return Array(repeating: only, count: rank) }
        guard list.count == rank else {
            throw ConvRTError(
                "expected \(key) to be a single integer value or a list of \(rank) values to match "
                    + "the convolution dimensions, but got \(key)=\(list.bracketed)",
                at: given.location)
        }
        return list
    }

    /// An Unfold/Fold pair (`_pair`): an int is repeated; a tuple must have 2 entries (im2col's check).
    func pair(_ key: String) throws(ConvRTError) -> [Int]? {
        guard let given = values[key] else { return nil }
        if case .integer(let v) = given.value { return [v, v] }
        let list = try ints(key, given)
        guard list.count == 2 else {
            throw ConvRTError("It is expected \(key) equals to 2, but got size \(list.count)", at: given.location)
        }
        return list
    }

    /// An integer as a one-element list, or a tuple of integers, as written.
    func ints(_ key: String, _ given: Located<ArgValue>) throws(ConvRTError) -> [Int] {
        switch given.value {
        case .integer(let v):
            return [v]
        case .tuple(let items):
            var list: [Int] = []
            for item in items {
                guard case .integer(let v) = item.value else { break }
                list.append(v)
            }
            if list.count == items.count { return list }
        default:
            break
        }
        throw typeError(key, "an integer or a tuple of integers", given)
    }

    /// "`key` must be `expected`, got string 'x'"; names get a hint when a string would do.
    func typeError(_ key: String, _ expected: String, _ given: Located<ArgValue>) -> ConvRTError {
        var message = "\(key) must be \(expected), got \(given.value.described)"
        if case .name = given.value, expected.contains("'") || expected.contains("string") {
            message += " (strings need quotes)"
        }
        return ConvRTError(message, at: given.location)
    }
}
