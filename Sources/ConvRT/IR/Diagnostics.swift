/// A position in a source file, 1-based, as printed in `file:line:col` diagnostics.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// Every error convrt reports for bad input: one line, with the place it came from.
///
/// Rendered as `file:line:col: Conv2d 'stem': message` with the parts that are known.
public struct ConvRTError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Where in a source file the problem is, when known.
    public var location: SourceLocation?
    /// The layer the problem belongs to, rendered like `Conv2d 'stem'`, when known.
    public var context: String?
    /// One line of explanation.
    public var message: String

    public init(_ message: String, context: String? = nil, at location: SourceLocation? = nil) {
        self.message = message
        self.context = context
        self.location = location
    }

    public var description: String {
        var parts: [String] = []
        if let location { parts.append(location.description) }
        if let context { parts.append(context) }
        parts.append(message)
        return parts.joined(separator: ": ")
    }

    /// Returns this error with a location and layer context filled in where missing.
    func located(at location: SourceLocation?, context: String?) -> ConvRTError {
        var copy = self
        if copy.location == nil { copy.location = location }
        if copy.context == nil { copy.context = context }
        return copy
    }
}
