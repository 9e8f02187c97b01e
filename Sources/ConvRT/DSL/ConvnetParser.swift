import Foundation

/// A parsed `.convnet` file: the graph (no weights yet; lazy `in_channels` unresolved)
/// and the weights path as written.
public struct ParsedModel: Sendable {
    public var graph: Graph
    /// The `weights "..."` path exactly as written (relative to the model file unless absolute).
    public var weightsPath: String?
    /// Where the path string was written, for errors about loading it.
    public var weightsLocation: SourceLocation?

    public init(graph: Graph, weightsPath: String? = nil, weightsLocation: SourceLocation? = nil) {
        self.graph = graph
        self.weightsPath = weightsPath
        self.weightsLocation = weightsLocation
    }

    /// The weights file resolved against the directory of `modelURL`, or `nil` if none is named.
    public func weightsURL(relativeTo modelURL: URL) -> URL? {
        guard let path = weightsPath else { return nil }
        if path.hasPrefix("/") { return URL(fileURLWithPath: path) }
        return modelURL.deletingLastPathComponent().appendingPathComponent(path)
    }
}

/// The `.convnet` front end: lexer, parser and lowering to a `Graph`.
///
/// ```
/// input x: [N, 3, 32, 32]
/// weights "tiny.npz"
/// stem = Conv2d(x, in_channels=3, out_channels=8, kernel_size=3, padding=1)
/// output stem
/// ```
/// Errors are `ConvRTError`s rendered `file:line:col: Conv2d 'stem': message`.
/// Numeric checks (negative padding, groups, channel counts) are left to shape inference.
public enum ConvnetParser {
    /// Parses model text.
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - file: the name used in error locations.
    /// - Throws: `ConvRTError` for the first problem found.
    public static func parse(_ text: String, file: String) throws -> ParsedModel {
        var parser = try Parser(text, file: file)
        let (statements, end) = try parser.parseFile()
        var lowering = Lowering()
        for statement in statements { try lowering.apply(statement) }
        return try lowering.finish(end: end)
    }

    /// Reads and parses a `.convnet` file; errors name it by `url.relativePath`.
    /// - Throws: `ConvRTError` if the file cannot be read, is not UTF-8, or does not parse.
    public static func parse(contentsOf url: URL) throws -> ParsedModel {
        try parse(try FileAccess.read(url), file: url.relativePath)
    }

    /// Parses a file's bytes, which must be UTF-8 text (an error names the first bad byte's place).
    public static func parse(_ data: Data, file: String) throws -> ParsedModel {
        try parse(try decodeUTF8(data, file: file), file: file)
    }

    /// The text of `data`, or an error at the first byte that is not valid UTF-8.
    static func decodeUTF8(_ data: Data, file: String) throws(ConvRTError) -> String {
        var decoder = UTF8()
        var bytes = data.makeIterator()
        var (line, column) = (1, 1)
        while true {
            switch decoder.decode(&bytes) {
            case .scalarValue(let scalar):
                if scalar == "\n" { (line, column) = (line + 1, 1) } else { column += 1 }
            case .emptyInput:
                return String(decoding: data, as: UTF8.self)
            case .error:
                let location = SourceLocation(file: file, line: line, column: column)
                throw ConvRTError("file is not valid UTF-8 text", at: location)
            }
        }
    }
}
