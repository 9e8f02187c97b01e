/// A declared graph input: its name and shape (symbolic dims allowed).
public struct GraphInput: Hashable, Sendable {
    public var name: String
    public var shape: SymbolicShape

    public init(name: String, shape: SymbolicShape) {
        self.name = name
        self.shape = shape
    }
}

/// One operation. Every node produces exactly one value, named like the node.
public struct Node: Hashable, Sendable {
    /// The node's name, also the name of the value it produces (e.g. `layer1.0.conv1`).
    public var name: String
    /// What the node computes, with all its attributes.
    public var op: Op
    /// Names of the values consumed, in operand order (graph inputs or earlier nodes).
    public var inputs: [String]
    /// Where the node was written in a `.convnet` file, when known.
    public var location: SourceLocation?

    public init(name: String, op: Op, inputs: [String], location: SourceLocation? = nil) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.location = location
    }

    /// How errors name this node: `Conv2d 'stem'`.
    public var label: String { "\(op.displayName) '\(name)'" }
}

/// A model: inputs, nodes in execution (topological) order, outputs and parameters.
///
/// Parameters are keyed by `<node>.weight` / `<node>.bias` and stored in PyTorch's
/// layout (Conv: `(out, in/groups, *k)`, ConvTranspose: `(in, out/groups, *k)`, bias `(out)`).
public struct Graph: Hashable, Sendable {
    public var inputs: [GraphInput]
    public var nodes: [Node]
    public var outputs: [String]
    public var weights: [String: Tensor]

    public init(inputs: [GraphInput], nodes: [Node], outputs: [String], weights: [String: Tensor] = [:]) {
        self.inputs = inputs
        self.nodes = nodes
        self.outputs = outputs
        self.weights = weights
    }

    /// The node producing `name`, if any.
    public func node(named name: String) -> Node? {
        nodes.first { $0.name == name }
    }
}

extension Tensor: Hashable {
    public func hash(into hasher: inout Hasher) {
        hasher.combine(shape)
        hasher.combine(data.count)
    }
}
