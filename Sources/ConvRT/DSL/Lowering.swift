/// Turns parsed statements into a `Graph`, checking names, layer types and arguments.
struct Lowering {
    private var inputs: [GraphInput] = []
    private var nodes: [Node] = []
    private var outputs: [Located<String>] = []
    /// Every value name defined so far (inputs and nodes), with where it was defined.
    private var defined: [String: SourceLocation] = [:]
    private var weights: Located<String>?
    private var weightsKeyword: SourceLocation?

    /// Words that read as values (`true`, `None`), so they cannot name one.
    private static let reserved: Set<String> = ["true", "True", "false", "False", "None", "none"]

    mutating func apply(_ statement: Statement) throws(ConvRTError) {
        switch statement {
        case .input(let name, let dims): try addInput(name, dims: dims)
        case .weights(let path, let keyword): try setWeights(path, keyword: keyword)
        case .output(let names): try addOutputs(names)
        case .layer(let layer): try addLayer(layer)
        }
    }

    /// The finished model; `end` is where the file ends, for a model without outputs.
    func finish(end: SourceLocation) throws(ConvRTError) -> ParsedModel {
        guard !outputs.isEmpty else {
            throw ConvRTError("model has no output; add an 'output NAME' statement", at: end)
        }
        let graph = Graph(inputs: inputs, nodes: nodes, outputs: outputs.map(\.value))
        return ParsedModel(graph: graph, weightsPath: weights?.value, weightsLocation: weights?.location)
    }

    // MARK: Statements

    private mutating func addInput(_ name: Located<String>, dims: [Located<ArgValue>]) throws(ConvRTError) {
        try define(name)
        var shape: SymbolicShape = []
        for dim in dims {
            switch dim.value {
            case .integer(let v) where v >= 0: shape.append(.known(v))
            case .name(let s): shape.append(.symbol(s))
            default:
                throw ConvRTError("input dimensions must be non-negative, got \(dim.value.rendered)", at: dim.location)
            }
        }
        inputs.append(GraphInput(name: name.value, shape: shape))
    }

    private mutating func setWeights(_ path: Located<String>, keyword: SourceLocation) throws(ConvRTError) {
        if let first = weightsKeyword {
            throw ConvRTError("duplicate weights statement (first at \(first))", at: keyword)
        }
        weights = path
        weightsKeyword = keyword
    }

    private mutating func addOutputs(_ names: [Located<String>]) throws(ConvRTError) {
        for name in names {
            try checkDefined(name)
            if let first = outputs.first(where: { $0.value == name.value }) {
                throw ConvRTError("'\(name.value)' is already an output (at \(first.location))", at: name.location)
            }
            outputs.append(name)
        }
    }

    private mutating func addLayer(_ layer: LayerStatement) throws(ConvRTError) {
        guard let spec = LayerTable.spec(named: layer.op.value) else {
            var message = "unknown layer '\(layer.op.value)'"
            if let guess = closestMatch(layer.op.value, in: LayerTable.specs.map(\.name)) {
                message += "; did you mean '\(guess)'?"
            }
            throw ConvRTError(message, at: layer.op.location)
        }
        do {
            let inputs = try layerInputs(layer, spec: spec)  // before `define`: `y = ReLU(y)` is no self-loop
            try define(layer.name)
            try checkKeywords(layer, spec: spec)
            let op = try spec.build(LayerArguments(layer: spec.name, anchor: layer.op.location, keywords: layer.keywords))
            nodes.append(Node(name: layer.name.value, op: op, inputs: inputs, location: layer.name.location))
        } catch {
            throw error.located(at: nil, context: "\(spec.name) '\(layer.name.value)'")
        }
    }

    // MARK: Checks

    private mutating func define(_ name: Located<String>) throws(ConvRTError) {
        if Self.reserved.contains(name.value) {
            throw ConvRTError("'\(name.value)' is a reserved word and cannot name a value", at: name.location)
        }
        if let first = defined[name.value] {
            throw ConvRTError("redefinition of '\(name.value)' (first defined at \(first))", at: name.location)
        }
        defined[name.value] = name.location
    }

    private func checkDefined(_ name: Located<String>) throws(ConvRTError) {
        guard defined[name.value] == nil else { return }
        var message = "undefined name '\(name.value)'"
        if let guess = closestMatch(name.value, in: Array(defined.keys).sorted()) {
            message += "; did you mean '\(guess)'?"
        }
        throw ConvRTError(message, at: name.location)
    }

    /// The positional value names, checked for kind, existence and count.
    private func layerInputs(_ layer: LayerStatement, spec: LayerSpec) throws(ConvRTError) -> [String] {
        var names: [String] = []
        for (index, argument) in layer.positional.enumerated() {
            if spec.acceptsAnyArguments, index >= spec.inputCount { break }  // ignored, like `nn.Identity(54)`
            guard case .name(let name) = argument.value else {
                throw positionalError(argument, index: index, spec: spec)
            }
            if index < spec.inputCount || spec.variadicInputs { try checkDefined(Located(value: name, location: argument.location)) }
            names.append(name)
        }
        if spec.variadicInputs, names.count >= spec.inputCount { return names }
        guard names.count == spec.inputCount else {
            let plural = spec.inputCount == 1 ? "input" : "inputs"
            let location = names.count > spec.inputCount ? layer.positional[spec.inputCount].location : layer.op.location
            let count = spec.variadicInputs ? "at least \(spec.inputCount)" : "\(spec.inputCount)"
            throw ConvRTError("\(spec.name) takes \(count) \(plural), got \(names.count)", at: location)
        }
        return names
    }

    /// A positional that is not a name: an input written wrong, or a PyTorch-style positional parameter.
    private func positionalError(_ argument: Located<ArgValue>, index: Int, spec: LayerSpec) -> ConvRTError {
        if index < spec.inputCount || (spec.variadicInputs && spec.parameters.isEmpty) {
            return ConvRTError(
                "input \(index + 1) of \(spec.name) must be a value name, got \(argument.value.described)",
                at: argument.location)
        }
        // A variadic layer's first non-name positional is meant as its first parameter (`Concat(a, b, 1)`).
        let parameterIndex = spec.variadicInputs ? 0 : index - spec.inputCount
        var message = "unexpected positional argument \(argument.value.rendered); layer parameters are passed by keyword"
        if parameterIndex < spec.parameters.count {
            message += ", e.g. \(spec.parameters[parameterIndex])=\(argument.value.rendered)"
        }
        return ConvRTError(message, at: argument.location)
    }

    /// Unknown keywords (with a suggestion), then missing required ones.
    private func checkKeywords(_ layer: LayerStatement, spec: LayerSpec) throws(ConvRTError) {
        if spec.acceptsAnyArguments { return }
        for keyword in layer.keywords where !spec.parameters.contains(keyword.key.value) {
            throw unknownKeyword(keyword.key, spec: spec)
        }
        for name in spec.required where !layer.keywords.contains(where: { $0.key.value == name }) {
            throw ConvRTError("missing required argument '\(name)'", at: layer.op.location)
        }
    }

    private func unknownKeyword(_ key: Located<String>, spec: LayerSpec) -> ConvRTError {
        if let reason = spec.rejected[key.value] { return ConvRTError(reason, at: key.location) }
        var message = "unknown argument '\(key.value)' for \(spec.name)"
        if let guess = closestMatch(key.value, in: spec.parameters) {
            message += "; did you mean '\(guess)'?"
        } else if spec.parameters.isEmpty {
            message += ", which takes no arguments"
        } else {
            message += "; valid arguments are " + spec.parameters.joined(separator: ", ")
        }
        return ConvRTError(message, at: key.location)
    }
}
