/// Who reads what, for the fusion rules' match checks; kept current by `merge` as rules rewrite.
struct StepUses {
    /// Indices of the steps that read each value (a step reading a value twice is listed twice).
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

/// Steps under rewrite by one rule. An absorbed step stays in place as a tombstone (an inert
/// `.copy` that reads and defines nothing a rule can match) until `compacted`, so indices never
/// shift and `uses` is updated in O(1) per rewrite instead of rebuilt.
struct FusionState {
    var steps: [PlanStep]
    var uses: StepUses
    private var dead: [Bool]

    init(_ steps: [PlanStep], outputs: [String]) {
        self.steps = steps
        uses = StepUses(steps, outputs: outputs)
        dead = [Bool](repeating: false, count: steps.count)
    }

    /// The steps without tombstones, in order.
    var compacted: [PlanStep] { steps.indices.filter { !dead[$0] }.map { steps[$0] } }

    /// Merges step `absorbed` into step `target`, which then defines the absorbed step's value.
    mutating func merge(absorbed: Int, into target: Int, kernel: StepKernel, inputs: [String]) {
        let gone = steps[absorbed], old = steps[target]
        // Uses: the target's old value disappears (its only reader was `absorbed`), the absorbed
        // value is now the target's, and the target reads `inputs` instead of its old inputs.
        uses.producer[old.output] = nil
        uses.consumers[old.output] = nil
        uses.producer[gone.output] = target
        for name in gone.inputs where name != old.output { uses.consumers[name]?.removeAll { $0 == absorbed } }
        for name in old.inputs { uses.consumers[name]?.removeAll { $0 == target } }
        for name in inputs { uses.consumers[name, default: []].append(target) }
        steps[target].kernel = kernel
        steps[target].inputs = inputs
        steps[target].output = gone.output
        steps[target].covers += gone.covers
        steps[target].opName += "+" + gone.opName
        steps[absorbed].kernel = .copy
        steps[absorbed].inputs = []
        steps[absorbed].output = ""
        dead[absorbed] = true
    }
}

/// A match: the index of the later step, which the rewrite absorbs.
protocol FusionMatch {
    var absorbed: Int { get }
}

/// A rewrite rule over plan steps: `match` only looks, `rewrite` only changes.
///
/// `match` returns the first place at or after `start` where the rule applies, judged by the
/// later step (the one absorbed). A rewrite absorbs step `i` into an earlier step `j` that `i`
/// alone read; nothing before `i` reads `j`'s new value or saw `j`'s old one, so no new match
/// can appear before `i`, and the next search starts after it: a rule's fixpoint costs one scan.
protocol FusionRule {
    associatedtype Match: FusionMatch
    func match(_ steps: [PlanStep], _ uses: StepUses, shapes: [String: [Int]], from start: Int) -> Match?
    func rewrite(_ state: inout FusionState, _ match: Match)
}

extension FusionRule {
    /// Applies the rule until it no longer matches; returns whether it applied at all.
    /// `check`, when given, runs on the compacted steps after every rewrite (the verifier).
    func applyAll(_ steps: inout [PlanStep], outputs: [String], shapes: [String: [Int]],
                  check: (([PlanStep]) throws -> Void)?) rethrows -> Bool {
        var state = FusionState(steps, outputs: outputs)
        var start = 0, applied = false
        while let m = match(state.steps, state.uses, shapes: shapes, from: start) {
            rewrite(&state, m)
            applied = true
            start = m.absorbed + 1
            try check?(state.compacted)
        }
        if applied { steps = state.compacted }
        return applied
    }
}

/// Conv/ConvTranspose -> BatchNorm (running stats): scale the weights and shift the bias.
struct FoldBatchNorm: FusionRule {
    struct Match: FusionMatch {
        var conv: Int, norm: Int, scale: [Float], shift: [Float]
        var absorbed: Int { norm }
    }

    func match(_ steps: [PlanStep], _ uses: StepUses, shapes: [String: [Int]], from start: Int) -> Match? {
        for i in start..<max(start, steps.count) {
            let step = steps[i]
            guard case .channelAffine(let scale, let shift) = step.kernel,
                  let j = uses.producer[step.inputs[0]], uses.isPrivate(step.inputs[0], to: i),
                  case .conv(let a, _, _, let epilogue) = steps[j].kernel, epilogue.isEmpty,
                  // The norm's channels must be the conv's output channels: an unbatched conv
                  // output has them in dim 0, where BatchNorm reads a batch (found by fuzzing).
                  scale.count == a.outChannels, shapes[steps[j].output]?.count == a.spatialRank + 2
            else { continue }
            return Match(conv: j, norm: i, scale: scale, shift: shift)
        }
        return nil
    }

    func rewrite(_ state: inout FusionState, _ m: Match) {
        guard case .conv(var a, let weight, let bias, let epilogue) = state.steps[m.conv].kernel else { return }
        let folded = Self.fold(a, weight: weight, bias: bias, scale: m.scale.map(Double.init), shift: m.shift.map(Double.init))
        a.hasBias = true
        state.merge(absorbed: m.norm, into: m.conv,
                    kernel: .conv(a, weight: folded.weight, bias: folded.bias, epilogue: epilogue), inputs: state.steps[m.conv].inputs)
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
    struct Match: FusionMatch {
        var conv: Int, add: Int, residual: String, then: Activation?
        var absorbed: Int { add }
    }

    func match(_ steps: [PlanStep], _ uses: StepUses, shapes: [String: [Int]], from start: Int) -> Match? {
        for i in start..<max(start, steps.count) {
            let step = steps[i]
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

    func rewrite(_ state: inout FusionState, _ m: Match) {
        guard case .conv(let a, let w, let b, var e) = state.steps[m.conv].kernel else { return }
        e.residualInput = state.steps[m.conv].inputs.count
        e.postActivation = m.then
        state.merge(absorbed: m.add, into: m.conv, kernel: .conv(a, weight: w, bias: b, epilogue: e),
                    inputs: state.steps[m.conv].inputs + [m.residual])
    }
}

/// Conv -> activation, Add -> activation, or Linear -> ReLU/ReLU6/Hardtanh/LeakyReLU: apply the
/// activation in the producer's epilogue.
struct FuseActivation: FusionRule {
    struct Match: FusionMatch {
        var producer: Int, activation: Int, kernel: StepKernel
        var absorbed: Int { activation }
    }

    func match(_ steps: [PlanStep], _ uses: StepUses, shapes: [String: [Int]], from start: Int) -> Match? {
        for i in start..<max(start, steps.count) {
            let step = steps[i]
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

    func rewrite(_ state: inout FusionState, _ m: Match) {
        state.merge(absorbed: m.activation, into: m.producer, kernel: m.kernel, inputs: state.steps[m.producer].inputs)
    }
}
