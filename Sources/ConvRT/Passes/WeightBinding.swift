/// One parameter a resolved graph needs, in PyTorch's `state_dict` layout.
struct ParameterSpec {
    /// How the seeded init fills a parameter: PyTorch's defaults for its layer.
    enum Initializer {
        /// Uniform in ±1/sqrt(fan_in) (0 when fan_in is 0): conv weights and biases, where
        /// fan_in = `weight.size(1) * prod(kernel)`.
        case uniform(fanIn: Int)
        /// Every element `value`: BatchNorm's weight 1, bias 0, running_mean 0, running_var 1.
        case constant(Float)
    }

    var key: String
    var shape: [Int]
    var initializer: Initializer
    var node: Node
    /// A buffer (BatchNorm's running stats) rather than a learnable parameter: saved in the
    /// `state_dict` but not counted by `model.parameters()`.
    var isBuffer = false
}

/// Attaches parameters to a shape-inferred graph: from an `.npz` state_dict (PyTorch or
/// MegEngine layout), or a deterministic seeded init with PyTorch's bounds.
public enum WeightBinding {
    /// The parameters and buffers of every node, in node order and `state_dict` order
    /// (weight, bias, running_mean, running_var).
    static func parameters(of graph: Graph) -> [ParameterSpec] {
        graph.nodes.flatMap { node -> [ParameterSpec] in
            switch node.op {
            case .conv(let a): return convParameters(a, node: node)
            case .batchNorm(let b): return batchNormParameters(b, node: node)
            case .linear(let l): return linearParameters(l, node: node)
            case .constant(let shape):
                return [ParameterSpec(key: "\(node.name).value", shape: shape, initializer: .constant(0), node: node, isBuffer: true)]
            case .unfold, .fold, .activation, .add, .identity: return []
            case .pool, .adaptivePool, .matmul, .binary, .concat, .flatten, .reshape, .transpose,
             .squeeze, .unsqueeze, .slice, .gather, .pad, .resize, .softmax, .reduceMean: return []
            }
        }
    }

    private static func convParameters(_ a: ConvAttributes, node: Node) -> [ParameterSpec] {
        guard let c = a.inChannels else { return [] }
        let initializer = ParameterSpec.Initializer.uniform(fanIn: a.fanIn(inChannels: c))
        var specs = [ParameterSpec(key: "\(node.name).weight", shape: a.weightShape(inChannels: c), initializer: initializer, node: node)]
        if a.hasBias {
            specs.append(ParameterSpec(key: "\(node.name).bias", shape: [a.outChannels], initializer: initializer, node: node))
        }
        return specs
    }

    /// `weight` `(out, in)` and `bias` `(out)`, both uniform in ±1/sqrt(in) like `nn.Linear`'s
    /// `kaiming_uniform_(a=sqrt(5))` and bias init.
    private static func linearParameters(_ l: LinearAttributes, node: Node) -> [ParameterSpec] {
        guard let inFeatures = l.inFeatures else { return [] }
        let initializer = ParameterSpec.Initializer.uniform(fanIn: inFeatures)
        var specs = [ParameterSpec(key: "\(node.name).weight", shape: [l.outFeatures, inFeatures], initializer: initializer, node: node)]
        if l.hasBias {
            specs.append(ParameterSpec(key: "\(node.name).bias", shape: [l.outFeatures], initializer: initializer, node: node))
        }
        return specs
    }

    /// `weight`, `bias` (affine) and `running_mean`, `running_var` (tracked), each `(C)`.
    /// The tracked `num_batches_tracked` counter is a training-only buffer: see `trainingOnlyKeys`.
    private static func batchNormParameters(_ b: BatchNormAttributes, node: Node) -> [ParameterSpec] {
        guard let c = b.numFeatures, c >= 0 else { return [] }
        func spec(_ name: String, _ value: Float, buffer: Bool) -> ParameterSpec {
            ParameterSpec(key: "\(node.name).\(name)", shape: [c], initializer: .constant(value), node: node, isBuffer: buffer)
        }
        var specs: [ParameterSpec] = []
        if b.affine { specs += [spec("weight", 1, buffer: false), spec("bias", 0, buffer: false)] }
        if b.trackRunningStats { specs += [spec("running_mean", 0, buffer: true), spec("running_var", 1, buffer: true)] }
        return specs
    }

    /// `state_dict` keys that inference does not use but a `.npz` may carry: each BatchNorm with
    /// running stats has an int64 scalar `<node>.num_batches_tracked`. They are checked (a
    /// scalar) and dropped, so they never reach `Graph.weights` or a `.pb`.
    static func trainingOnlyKeys(of graph: Graph) -> Set<String> {
        Set(graph.nodes.compactMap { node in
            guard case .batchNorm(let b) = node.op, b.trackRunningStats else { return nil }
            return "\(node.name).num_batches_tracked"
        })
    }

    /// Binds `.npz` entries to the graph's parameters. Every needed key must be present with
    /// a matching shape, and no other key may appear.
    public static func bind(_ graph: Graph, entries: [(name: String, tensor: Tensor)], file: String) throws -> [String: Tensor] {
        let provided = Dictionary(entries.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
        var bound: [String: Tensor] = [:]
        for spec in parameters(of: graph) {
            guard let tensor = provided[spec.key] else {
                throw ConvRTError("\(file): missing key '\(spec.key)' (expected shape \(spec.shape.bracketed))",
                                  context: spec.node.label, at: spec.node.location)
            }
            guard let converted = canonical(tensor, for: spec) else {
                throw ConvRTError("\(file): key '\(spec.key)' has shape \(tensor.shape.bracketed), but the layer needs \(spec.shape.bracketed)",
                                  context: spec.node.label, at: spec.node.location)
            }
            bound[spec.key] = converted
        }
        let trainingOnly = trainingOnlyKeys(of: graph)
        for entry in entries where bound[entry.name] == nil {
            guard trainingOnly.contains(entry.name) else {
                throw ConvRTError("\(file): unexpected key '\(entry.name)': no layer of the model uses it")
            }
            guard entry.tensor.count == 1 else {
                throw ConvRTError("\(file): key '\(entry.name)' has shape \(entry.tensor.shape.bracketed), but it must be a scalar (a counter)")
            }
        }
        return bound
    }

    /// Accepts PyTorch's layout as is, and MegEngine's grouped weight `(g, out/g, in/g, *k)` and
    /// bias `(1, out, 1, ...)`, which hold the same elements in the same order.
    static func canonical(_ tensor: Tensor, for spec: ParameterSpec) -> Tensor? {
        if tensor.shape == spec.shape { return tensor }
        guard case .conv(let a) = spec.node.op, !a.transposed || spec.key.hasSuffix(".bias") else { return nil }
        let megEngine: [Int]
        if spec.key.hasSuffix(".bias") {
            megEngine = [1, a.outChannels] + [Int](repeating: 1, count: a.spatialRank)
        } else {
            megEngine = [a.groups, a.outChannels / a.groups] + spec.shape.dropFirst()
        }
        return tensor.shape == megEngine ? tensor.reshaped(spec.shape) : nil
    }

    /// Deterministic init with PyTorch's defaults: conv weight and bias uniform in ±1/sqrt(fan_in)
    /// (bias 0 when fan_in is 0); BatchNorm weight 1, bias 0, running_mean 0, running_var 1.
    /// Each random key draws from its own stream seeded by `seed` and the key, so adding a
    /// layer does not change the others.
    public static func initialize(_ graph: Graph, seed: UInt64) -> [String: Tensor] {
        var weights: [String: Tensor] = [:]
        for spec in parameters(of: graph) {
            let count = spec.shape.reduce(1, *)
            switch spec.initializer {
            case .uniform(let fanIn):
                let bound: Float = fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0
                var rng = SplitMix64(seed: seed ^ fnv1a(spec.key))
                let data = (0..<count).map { _ in (2 * rng.nextUnitFloat() - 1) * bound }
                weights[spec.key] = Tensor(shape: spec.shape, data: data)
            case .constant(let value):
                weights[spec.key] = Tensor(zeros: spec.shape, value: value)
            }
        }
        return weights
    }

    /// The float32 bytes of every parameter the graph's layers need (saturating, never trapping).
    static func parameterBytes(of graph: Graph) -> Int {
        parameters(of: graph).reduce(0) { total, spec in
            let bytes = Limits.product(spec.shape + [4]) ?? Int.max
            return total.addingReportingOverflow(bytes).overflow ? Int.max : total + bytes
        }
    }

    /// Checks that a graph carries exactly the parameters its layers need (e.g. one read from a `.pb`).
    public static func validate(_ graph: Graph, file: String) throws {
        let specs = parameters(of: graph)
        for spec in specs {
            guard let tensor = graph.weights[spec.key] else {
                throw ConvRTError("\(file): missing weight '\(spec.key)'", context: spec.node.label, at: spec.node.location)
            }
            guard tensor.shape == spec.shape else {
                throw ConvRTError("\(file): weight '\(spec.key)' has shape \(tensor.shape.bracketed), but the layer needs \(spec.shape.bracketed)",
                                  context: spec.node.label, at: spec.node.location)
            }
        }
        let needed = Set(specs.map(\.key))
        if let extra = graph.weights.keys.sorted().first(where: { !needed.contains($0) }) {
            throw ConvRTError("\(file): unexpected weight '\(extra)': no layer of the model uses it")
        }
    }
}

/// SplitMix64: a small, fast, well-distributed generator; reproducible on every platform.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 bits of precision.
    mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) / Float(1 << 24)
    }
}

/// FNV-1a over UTF-8: a stable string hash (Swift's `Hasher` is randomly seeded per process).
func fnv1a(_ s: String) -> UInt64 {
    s.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
}
