/// Who reads what, for the fusion rules' match checks.
struct StepUses {
    /// Indices of the steps that read each value.
    var consumers: [String: [Int]] = [:]
    /// Index of the step defining each value (graph inputs have none).
    var producer: [String: Int] = [:]
    var graphOutputs: Set<String>

    init(_ steps: [PlanStep], outputs: [String]) {
        graphOutputs = Set(outputs)
        for (i, step) in steps.enumerated() {
            producer[step.output] = i
            for name in step.inputs { consumers[name, default: []].append(i) }
        }
    }

    /// A value can be folded into the step reading it only if that step is its sole reader
    /// and nobody asked for it as an output (ORT #4110 fused away a requested output).
    func isPrivate(_ value: String, to reader: Int) -> Bool {
        !graphOutputs.contains(value) && consumers[value] == [reader]
    }
}

/// A rewrite rule over plan steps: `match` only looks, `rewrite` only changes.
protocol FusionRule {
    associatedtype Match
    /// The first place the rule applies, if any.
    func match(_ steps: [PlanStep], _ uses: StepUses, shapes: [String: [Int]]) -> Match?
    func rewrite(_ steps: inout [PlanStep], _ match: Match)
}

extension FusionRule {
    /// Applies the rule once if it matches; returns whether it did.
    func apply(_ steps: inout [PlanStep], outputs: [String], shapes: [String: [Int]]) -> Bool {
        guard let m = match(steps, StepUses(steps, outputs: outputs), shapes: shapes) else { return false }
        rewrite(&steps, m)
        return true
    }
}

/// Merges step `absorbed` into step `into`, which then defines the absorbed step's value.
private func merge(_ steps: inout [PlanStep], absorbed: Int, into target: Int, kernel: StepKernel, inputs: [String]) {
    let gone = steps[absorbed]
    steps[target].kernel = kernel
    steps[target].inputs = inputs
    steps[target].output = gone.output
    steps[target].covers += gone.covers
    steps[target].opName += "+" + gone.opName
    steps.remove(at: absorbed)
}

/// Conv/ConvTranspose -> BatchNorm (running stats): scale the weights and shift the bias.
struct FoldBatchNorm: FusionRule {
    struct Match { var conv: Int; var norm: Int; var scale: [Float]; var shift: [Float] }

    func match(_ steps: [PlanStep], _ uses: StepUses, shapes: [String: [Int]]) -> Match? {
        for (i, step) in steps.enumerated() {
            guard case .channelAffine(let scale, let shift) = step.kernel,
                  let j = uses.producer[step.inputs[0]], uses.isPrivate(step.inputs[0], to: i),
                  case .conv(_, _, _, let epilogue) = steps[j].kernel, epilogue.isEmpty
            else { continue }
            return Match(conv: j, norm: i, scale: scale, shift: shift)
        }
        return nil
    }

    func rewrite(_ steps: inout [PlanStep], _ m: Match) {
        guard case .conv(var a, let weight, let bias, let epilogue) = steps[m.conv].kernel else { return }
        let folded = Self.fold(a, weight: weight, bias: bias, scale: m.scale.map(Double.init), shift: m.shift.map(Double.init))
        a.hasBias = true
        merge(&steps, absorbed: m.norm, into: m.conv,
              kernel: .conv(a, weight: folded.weight, bias: folded.bias, epilogue: epilogue), inputs: steps[m.conv].inputs)
    }

    /// `w'[o] = w[o] * scale[o]`, `b'[o] = b[o] * scale[o] + shift[o]`, in Double.
    /// ConvTranspose keeps output channels in weight dim 1, per group: `(in, out/g, *k)`.
    static func fold(_ a: ConvAttributes, weight: Tensor, bias: Tensor?, scale: [Double], shift: [Double])
        -> (weight: Tensor, bias: Tensor)
    {
        let kernel = a.kernelSize.reduce(1, *)
        let rows = weight.shape[0], columns = weight.shape[1]
        let inPerGroup = a.transposed ? max(rows / max(a.groups, 1), 1) : 0
        var w = weight.data
        for r in 0..<rows {
            for c in 0..<columns {
                let o = a.transposed ? (r / inPerGroup) * columns + c : r
                let base = (r * columns + c) * kernel
                for t in 0..<kernel { w[base + t] = Float(Double(w[base + t]) * scale[o]) }
            }
        }
        let b = (0..<a.outChannels).map { o in Float(Double(bias?.data[o] ?? 0) * scale[o] + shift[o]) }
        return (Tensor(shape: weight.shape, data: w), Tensor(shape: [a.outChannels], data: b))
    }
}

/// Add(conv(x), r) -> conv(x) with `r` added in the epilogue. The other operand must have the
/// output's exact shape and be computed before the conv runs; the Add's own activation moves along.
struct FuseResidualAdd: FusionRule {
    struct Match { var conv: Int; var add: Int; var residual: String; var then: Activation? }

    func match(_ steps: [PlanStep], _ uses: StepUses, shapes: [String: [Int]]) -> Match? {
        for (i, step) in steps.enumerated() {
            guard case .add(let then) = step.kernel, step.inputs.count == 2 else { continue }
            // Prefer the later conv: the other operand is then more likely already computed.
            let candidates = [(0, 1), (1, 0)].sorted { (uses.producer[step.inputs[$0.0]] ?? -1) > (uses.producer[step.inputs[$1.0]] ?? -1) }
            for (fused, other) in candidates {
                let value = step.inputs[fused], residual = step.inputs[other]
                guard let j = uses.producer[value], uses.isPrivate(value, to: i),
                      case .conv(_, _, _, let e) = steps[j].kernel, e.residualInput == nil, e.postActivation == nil,
                      (uses.producer[residual] ?? -1) < j, residual != value,
                      shapes[residual] == shapes[step.output], shapes[value] == shapes[step.output]
                else { continue }
                return Match(conv: j, add: i, residual: residual, then: then)
            }
        }
        return nil
    }

    func rewrite(_ steps: inout [PlanStep], _ m: Match) {
        guard case .conv(let a, let w, let b, var e) = steps[m.conv].kernel else { return }
        e.residualInput = steps[m.conv].inputs.count
        e.postActivation = m.then
        merge(&steps, absorbed: m.add, into: m.conv, kernel: .conv(a, weight: w, bias: b, epilogue: e),
              inputs: steps[m.conv].inputs + [m.residual])
    }
}

/// Conv -> activation, Add -> activation, or Linear -> ReLU/ReLU6/Hardtanh/LeakyReLU: apply the
/// activation in the producer's epilogue.
struct FuseActivation: FusionRule {
    struct Match { var producer: Int; var activation: Int; var kernel: StepKernel }

    func match(_ steps: [PlanStep], _ uses: StepUses, shapes: [String: [Int]]) -> Match? {
        for (i, step) in steps.enumerated() {
            guard case .activation(let act) = step.kernel,
                  let j = uses.producer[step.inputs[0]], uses.isPrivate(step.inputs[0], to: i)
            else { continue }
            switch steps[j].kernel {
            case .conv(let a, let w, let b, var e):
                if e.residualInput == nil, e.preActivation == nil {
                    e.preActivation = act
                } else if e.residualInput != nil, e.postActivation == nil {
                    e.postActivation = act
                } else {
                    continue
                }
                return Match(producer: j, activation: i, kernel: .conv(a, weight: w, bias: b, epilogue: e))
            case .add(nil):
                return Match(producer: j, activation: i, kernel: .add(then: act))
            case .tensor(.linear(var l)) where l.activation == .none:
                guard let store = GEMMConv.storeActivation(for: act) else { continue }
                l.activation = store
                return Match(producer: j, activation: i, kernel: .tensor(.linear(l)))
            default:
                continue
            }
        }
        return nil
    }

    func rewrite(_ steps: inout [PlanStep], _ m: Match) {
        merge(&steps, absorbed: m.activation, into: m.producer, kernel: m.kernel, inputs: steps[m.producer].inputs)
    }
}
