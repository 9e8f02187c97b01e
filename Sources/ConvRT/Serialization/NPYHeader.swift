/// The parsed preamble of a `.npy` file: format version, header dictionary and where the data starts.
///
/// Layout (NEP 1): `\x93NUMPY`, major, minor, header length (`<u2` for 1.0, `<u4` for 2.0/3.0),
/// then a Python-literal dict `{'descr': ..., 'fortran_order': ..., 'shape': (...), }` padded with
/// spaces and a newline. Version 3.0 only differs in encoding the header as UTF-8 instead of latin-1.
struct NPYHeader {
    var major: UInt8
    var minor: UInt8
    /// The `descr` value: a dtype string such as `<f4`, or a list for structured dtypes.
    var descr: PyLiteral
    var fortranOrder: Bool
    var shape: [Int]
    /// Byte offset of the first array element.
    var dataOffset: Int

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    /// Parses the preamble and header dict at the start of `raw`.
    static func parse(_ raw: UnsafeRawBufferPointer) throws -> NPYHeader {
        guard raw.count >= 10 else {
            throw ConvRTError("file is too short to be a .npy file (\(raw.count) bytes)")
        }
        guard raw.prefix(6).elementsEqual(magic) else {
            throw ConvRTError("not a .npy file (bad magic bytes)")
        }
        let major = raw[6], minor = raw[7]
        let lengthSize: Int
        switch (major, minor) {
        case (1, 0): lengthSize = 2
        case (2, 0), (3, 0): lengthSize = 4
        default: throw ConvRTError("unsupported .npy format version \(major).\(minor)")
        }
        let start = 8 + lengthSize
        guard raw.count >= start else {
            throw ConvRTError("file is too short for a version \(major).0 .npy header")
        }
        let length = lengthSize == 2
            ? Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt16.self)))
            : Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        guard length <= raw.count - start else {
            throw ConvRTError("header length \(length) exceeds the file size (\(raw.count) bytes)")
        }
        let text = try decodeText(UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)]), utf8: major == 3)
        var header = try fields(of: PyLiteralParser.parse(text))
        header.major = major
        header.minor = minor
        header.dataOffset = start + length
        return header
    }

    /// Versions 1.0 and 2.0 store latin-1 text, 3.0 stores UTF-8.
    private static func decodeText(_ bytes: UnsafeRawBufferPointer, utf8: Bool) throws -> [Unicode.Scalar] {
        guard utf8 else { return bytes.map { Unicode.Scalar($0) } }
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw ConvRTError("malformed .npy header: not valid UTF-8")
        }
        return Array(string.unicodeScalars)
    }

    /// Checks the dict has exactly the keys numpy writes, with the right value types.
    private static func fields(of literal: PyLiteral) throws -> NPYHeader {
        guard case .dict(let entries) = literal else {
            throw ConvRTError("malformed .npy header: expected a dict, found \(literal)")
        }
        var values: [String: PyLiteral] = [:]
        for (key, value) in entries {
            guard ["descr", "fortran_order", "shape"].contains(key) else {
                throw ConvRTError("malformed .npy header: unexpected key '\(key)'")
            }
            guard values.updateValue(value, forKey: key) == nil else {
                throw ConvRTError("malformed .npy header: duplicate key '\(key)'")
            }
        }
        func value(_ key: String) throws -> PyLiteral {
            guard let value = values[key] else { throw ConvRTError("malformed .npy header: missing key '\(key)'") }
            return value
        }
        guard case .bool(let fortranOrder) = try value("fortran_order") else {
            throw ConvRTError("malformed .npy header: 'fortran_order' must be True or False")
        }
        return NPYHeader(major: 0, minor: 0, descr: try value("descr"), fortranOrder: fortranOrder,
                         shape: try shape(of: try value("shape")), dataOffset: 0)
    }

    private static func shape(of literal: PyLiteral) throws -> [Int] {
        let items: [PyLiteral]
        switch literal {
        case .tuple(let elements), .list(let elements): items = elements
        default: throw ConvRTError("malformed .npy header: 'shape' must be a tuple, found \(literal)")
        }
        guard items.count <= NPY.maxRank else {
            throw ConvRTError("malformed .npy header: rank \(items.count) exceeds the limit of \(NPY.maxRank)")
        }
        return try items.map { item in
            guard case .int(let dim) = item, dim >= 0 else {
                throw ConvRTError("malformed .npy header: 'shape' entries must be non-negative integers, found \(literal)")
            }
            return dim
        }
    }
}

/// A Python literal as it can appear in a `.npy` header.
indirect enum PyLiteral: CustomStringConvertible {
    case string(String)
    case int(Int)
    case bool(Bool)
    case none
    case tuple([PyLiteral])
    case list([PyLiteral])
    /// Key/value pairs in source order; keys must be strings.
    case dict([(String, PyLiteral)])

    /// Python `repr`-style rendering, for error messages.
    var description: String {
        switch self {
        case .string(let s): return "'\(s)'"
        case .int(let i): return String(i)
        case .bool(let b): return b ? "True" : "False"
        case .none: return "None"
        case .tuple(let items):
            return "(" + items.map(\.description).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .dict(let entries):
            return "{" + entries.map { "'\($0.0)': \($0.1)" }.joined(separator: ", ") + "}"
        }
    }
}

/// A recursive-descent parser for the subset of Python literals `.npy` headers use:
/// dicts, tuples, lists, quoted strings, integers, `True`, `False` and `None`.
/// Trailing commas and any whitespace are accepted; nesting depth is bounded.
struct PyLiteralParser {
    private let text: [Unicode.Scalar]
    private var pos = 0
    private var depth = 0
    private static let maxDepth = 32

    /// Parses `text` as exactly one literal followed only by whitespace.
    static func parse(_ text: [Unicode.Scalar]) throws -> PyLiteral {
        var parser = PyLiteralParser(text: text)
        let value = try parser.value()
        parser.skipSpace()
        guard parser.pos == text.count else { throw parser.failure("unexpected text after the header dict") }
        return value
    }

    private init(text: [Unicode.Scalar]) { self.text = text }

    private func failure(_ message: String) -> ConvRTError {
        ConvRTError("malformed .npy header: \(message) at offset \(pos)")
    }

    /// "expected X, found 'c'" (or "found the end of the header").
    private func expected(_ what: String) -> ConvRTError {
        let found = current.map { "'\($0.escaped(asASCII: true))'" } ?? "the end of the header"
        return failure("expected \(what), found \(found)")
    }

    private var current: Unicode.Scalar? { pos < text.count ? text[pos] : nil }

    private mutating func skipSpace() {
        while let c = current, c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0C}" { pos += 1 }
    }

    private mutating func value() throws -> PyLiteral {
        skipSpace()
        guard let c = current else { throw expected("a value") }
        switch c {
        case "{": return try nested { try $0.dict() }
        case "(": return try nested { try $0.sequence(close: ")", isTuple: true) }
        case "[": return try nested { try $0.sequence(close: "]", isTuple: false) }
        case "'", "\"": return .string(try string())
        case "-", "+", "0"..."9": return .int(try integer())
        default: return try word()
        }
    }

    private mutating func nested(_ body: (inout PyLiteralParser) throws -> PyLiteral) throws -> PyLiteral {
        guard depth < Self.maxDepth else { throw failure("nesting is too deep") }
        depth += 1
        defer { depth -= 1 }
        pos += 1  // the opening bracket
        return try body(&self)
    }

    /// Items separated by commas up to `close`; `(x)` without a comma is just `x`, as in Python.
    private mutating func sequence(close: Unicode.Scalar, isTuple: Bool) throws -> PyLiteral {
        var items: [PyLiteral] = []
        var sawComma = false
        while true {
            skipSpace()
            if current == close { pos += 1; break }
            items.append(try value())
            skipSpace()
            if current == "," { pos += 1; sawComma = true; continue }
            guard current == close else { throw expected("',' or '\(close)'") }
        }
        if isTuple && items.count == 1 && !sawComma { return items[0] }
        return isTuple ? .tuple(items) : .list(items)
    }

    private mutating func dict() throws -> PyLiteral {
        var entries: [(String, PyLiteral)] = []
        while true {
            skipSpace()
            if current == "}" { pos += 1; return .dict(entries) }
            guard case .string(let key) = try value() else { throw failure("dict keys must be strings") }
            skipSpace()
            guard current == ":" else { throw expected("':' after key '\(key)'") }
            pos += 1
            entries.append((key, try value()))
            skipSpace()
            if current == "," { pos += 1; continue }
            guard current == "}" else { throw expected("',' or '}'") }
        }
    }

    private mutating func string() throws -> String {
        guard let quote = current else { throw expected("a string") }
        pos += 1
        var result = String.UnicodeScalarView()
        while let c = current {
            pos += 1
            if c == quote { return String(result) }
            if c == "\n" { break }
            guard c == "\\" else { result.append(c); continue }
            guard let escaped = current else { break }
            pos += 1
            switch escaped {
            case "\\", "'", "\"": result.append(escaped)
            case "n": result.append("\n")
            case "t": result.append("\t")
            case "r": result.append("\r")
            default: throw failure("unsupported escape '\\\(escaped)' in string")
            }
        }
        throw failure("unterminated string")
    }

    /// A decimal integer; Python 2's `L` suffix (old headers wrote `(3L, 4L)`) is accepted.
    private mutating func integer() throws -> Int {
        let start = pos
        if current == "-" || current == "+" { pos += 1 }
        while let c = current, ("0"..."9").contains(c) { pos += 1 }
        let digits = String(String.UnicodeScalarView(text[start..<pos]))
        guard let value = Int(digits) else {
            throw digits.count > 1 ? failure("integer '\(digits)' is out of range") : expected("an integer")
        }
        if current == "L" || current == "l" { pos += 1 }
        return value
    }

    private mutating func word() throws -> PyLiteral {
        let start = pos
        while let c = current, c.properties.isAlphabetic || c == "_" { pos += 1 }
        let word = String(String.UnicodeScalarView(text[start..<pos]))
        if word == "u" || word == "b", current == "'" || current == "\"" {
            return .string(try string())  // Python 2 era u'...' / b'...' prefixes
        }
        switch word {
        case "True": return .bool(true)
        case "False": return .bool(false)
        case "None": return .none
        case "": throw failure("unexpected character '\(text[pos].escaped(asASCII: true))'")
        default: throw failure("unexpected word '\(word)'")
        }
    }
}
