import Foundation

/// One ONNX node, decoded from `NodeProto` into a form the importer can rewrite
/// (pattern fusion replaces runs of nodes by one synthetic node).
struct ONNXNode {
    /// The node's name, or its first output's name when the file leaves it empty.
    var name: String
    var opType: String
    /// `""` for the default (`ai.onnx`) domain.
    var domain: String
    /// Value names; `""` marks an omitted optional input.
    var inputs: [String]
    var outputs: [String]
    var attributes: [String: Onnx_AttributeProto]

    init(name: String, opType: String, domain: String = "", inputs: [String], outputs: [String],
         attributes: [String: Onnx_AttributeProto] = [:]) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }

    init(_ proto: Onnx_NodeProto) {
        let domain = proto.domain == "ai.onnx" ? "" : proto.domain
        let name = proto.name.isEmpty ? (proto.output.first(where: { !$0.isEmpty }) ?? proto.opType) : proto.name
        var attributes: [String: Onnx_AttributeProto] = [:]
        for a in proto.attribute where attributes[a.name] == nil { attributes[a.name] = a }
        self.init(name: name, opType: proto.opType, domain: domain, inputs: proto.input, outputs: proto.output,
                  attributes: attributes)
    }

    /// `Conv`, or `com.microsoft.FusedConv` outside the default domain.
    var qualifiedType: String { domain.isEmpty ? opType : "\(domain).\(opType)" }

    /// How errors name the node: `Conv node '/conv1/Conv'`.
    var label: String { "\(qualifiedType) node '\(name)'" }

    /// The input at `index`, or `nil` when absent or omitted (`""`).
    func input(_ index: Int) -> String? {
        index < inputs.count && !inputs[index].isEmpty ? inputs[index] : nil
    }
}

// MARK: - Attributes

extension ONNXNode {
    func has(_ name: String) -> Bool { attributes[name] != nil }

    func int(_ name: String) throws -> Int? {
        guard let a = attributes[name] else { return nil }
        guard a.type == .int || (a.type == .undefined && a.hasI) else { throw wrongType(name, "an int") }
        return try checkedInt(a.i, name)
    }

    func int(_ name: String, default value: Int) throws -> Int { try int(name) ?? value }

    func ints(_ name: String) throws -> [Int]? {
        guard let a = attributes[name] else { return nil }
        guard a.type == .ints || (a.type == .undefined && !a.ints.isEmpty) else { throw wrongType(name, "a list of ints") }
        return try a.ints.map { try checkedInt($0, name) }
    }

    func float(_ name: String) throws -> Float? {
        guard let a = attributes[name] else { return nil }
        guard a.type == .float || (a.type == .undefined && a.hasF) else { throw wrongType(name, "a float") }
        return a.f
    }

    func float(_ name: String, default value: Float) throws -> Float { try float(name) ?? value }

    func floats(_ name: String) throws -> [Float]? {
        guard let a = attributes[name] else { return nil }
        guard a.type == .floats || (a.type == .undefined && !a.floats.isEmpty) else { throw wrongType(name, "a list of floats") }
        return a.floats
    }

    func string(_ name: String) throws -> String? {
        guard let a = attributes[name] else { return nil }
        guard a.type == .string || (a.type == .undefined && a.hasS) else { throw wrongType(name, "a string") }
        guard let text = String(data: a.s, encoding: .utf8) else { throw ConvRTError("attribute '\(name)' is not valid UTF-8") }
        return text
    }

    func string(_ name: String, default value: String) throws -> String { try string(name) ?? value }

    func tensor(_ name: String) throws -> Onnx_TensorProto? {
        guard let a = attributes[name] else { return nil }
        guard a.type == .tensor || (a.type == .undefined && a.hasT) else { throw wrongType(name, "a tensor") }
        return a.t
    }

    /// A string attribute that must be one of `allowed`.
    func choice(_ name: String, default value: String, allowed: [String]) throws -> String {
        let text = try string(name, default: value)
        guard allowed.contains(text) else {
            throw ConvRTError("\(name) '\(text)' is not supported (expected \(allowed.map { "'\($0)'" }.joined(separator: ", ")))")
        }
        return text
    }

    /// A list attribute of exactly `count` entries, or `fill` repeated when absent.
    func ints(_ name: String, count: Int, fill: Int) throws -> [Int] {
        guard let list = try ints(name) else { return [Int](repeating: fill, count: count) }
        guard list.count == count else {
            throw ConvRTError("attribute '\(name)' has \(list.count) values, but \(count) are needed")
        }
        return list
    }

    private func wrongType(_ name: String, _ expected: String) -> ConvRTError {
        ConvRTError("attribute '\(name)' must be \(expected)")
    }

    private func checkedInt(_ v: Int64, _ name: String) throws -> Int {
        guard v.magnitude <= UInt64(Limits.maxDimension) else {
            throw ConvRTError("attribute '\(name)' value \(v) is too large (the limit is \(Limits.maxDimension))")
        }
        return Int(v)
    }
}
