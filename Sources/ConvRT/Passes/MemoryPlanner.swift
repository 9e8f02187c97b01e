/// Where every intermediate value and step workspace lives in one arena.
public struct MemoryPlan: Sendable {
    /// One region of the arena and what occupies it over which steps (inclusive).
    public struct Buffer: Sendable {
        /// Values stored here in turn (more than one when a step ran in place), or the
        /// scratch of one step.
        public var values: [String]
        public var isScratch: Bool
        public var offset: Int
        public var bytes: Int
        public var firstStep: Int
        public var lastStep: Int
    }

    public var buffers: [Buffer]
    /// The buffer index of each intermediate value (graph inputs and outputs live outside the arena).
    public var bufferOfValue: [String: Int]
    /// The scratch buffer index of each step that needs one.
    public var scratchOfStep: [Int: Int]
    /// Bytes the arena needs (its peak).
    public var arenaBytes: Int
    /// Bytes if every intermediate value and scratch had its own allocation.
    public var naiveBytes: Int
}

/// Workspace a step needs besides its operands, in floats.
struct StepScratch {
    /// A copy of the input padded with reflect/replicate/circular.
    var paddedInput = 0
    /// One output plane of accumulators (direct), the per-thread im2col slabs (GEMM), or
    /// each thread's transformed block (Winograd).
    var accumulator = 0
    var total: Int { paddedInput + accumulator }

    init(_ step: PlanStep, shapes: [String: [Int]]) {
        guard case .conv(let a, _, _, _) = step.kernel, let x = shapes[step.inputs[0]], let y = shapes[step.output] else { return }
        let shape = PlanExecutor.convShape(a, inShape: x, outShape: y)
        switch step.convAlgorithm {
        case .gemm(let gemm): accumulator = gemm.workspaceFloats(shape)
        case .pixelMajorGEMM(let gemm): accumulator = gemm.workspaceFloats(shape)
        case .depthwise(let d): accumulator = d.scratchFloats(shape)
        case .transposedGEMM(let gemm): accumulator = gemm.workspaceFloats(shape)
        case .winograd(let w): accumulator = w.workspaceFloats
        case .direct, nil: accumulator = y.suffix(a.spatialRank).reduce(1, *)
        }
        if !a.transposed, a.paddingMode != .zeros {
            let (begin, end) = a.padBeginEnd
            let spatial = Array(x.suffix(a.spatialRank))
            let planes = x.dropLast(a.spatialRank).reduce(1, *)
            paddedInput = planes * spatial.indices.map { spatial[$0] + begin[$0] + end[$0] }.reduce(1, *)
        }
    }
}

/// Lifetime-based arena planning: each value lives from the step defining it to its last
/// reader; elementwise steps reuse a dying operand's buffer; buffers are placed greedily by
/// size (largest first) at the lowest offset that overlaps no buffer live at the same time.
/// Graph inputs and outputs are never placed in the arena, so never aliased.
enum MemoryPlanner {
    static let alignment = 64

    static func plan(_ steps: [PlanStep], shapes: [String: [Int]], inputs: [String], outputs: [String], reuse: Bool) -> MemoryPlan {
        let external = Set(inputs).union(outputs)
        var lastUse: [String: Int] = [:]
        for (i, step) in steps.enumerated() { for name in step.inputs { lastUse[name] = i } }

        var buffers: [MemoryPlan.Buffer] = []
        var bufferOfValue: [String: Int] = [:], scratchOfStep: [Int: Int] = [:]
        for (i, step) in steps.enumerated() {
            let scratch = StepScratch(step, shapes: shapes).total
            if scratch > 0 {
                scratchOfStep[i] = buffers.count
                buffers.append(.init(values: ["scratch of \(step.output)"], isScratch: true, offset: 0,
                                     bytes: roundUp(scratch * 4), firstStep: i, lastStep: i))
            }
            guard !external.contains(step.output) else { continue }
            let bytes = roundUp((shapes[step.output] ?? []).reduce(1, *) * 4)
            let end = lastUse[step.output] ?? i
            if reuse, let donor = inPlaceDonor(step, at: i, shapes: shapes, lastUse: lastUse, bufferOfValue: bufferOfValue, buffers: buffers) {
                buffers[donor].values.append(step.output)
                buffers[donor].lastStep = max(buffers[donor].lastStep, end)
                bufferOfValue[step.output] = donor
            } else {
                bufferOfValue[step.output] = buffers.count
                buffers.append(.init(values: [step.output], isScratch: false, offset: 0, bytes: bytes, firstStep: i, lastStep: end))
            }
        }
        let naive = steps.enumerated().reduce(0) { sum, item in
            let (i, step) = item
            let value = external.contains(step.output) ? 0 : roundUp((shapes[step.output] ?? []).reduce(1, *) * 4)
            return sum + value + (scratchOfStep[i].map { buffers[$0].bytes } ?? 0)
        }
        let arena = reuse ? placeGreedyBySize(&buffers) : placeSequentially(&buffers)
        return MemoryPlan(buffers: buffers, bufferOfValue: bufferOfValue, scratchOfStep: scratchOfStep,
                          arenaBytes: arena, naiveBytes: naive)
    }

    /// An operand buffer the step may overwrite: the operand dies at this step, has the output's
    /// shape (not merely its rounded byte size: a broadcast operand would be overwritten before all
    /// its reads), and the kernel reads each element before writing the same element.
    private static func inPlaceDonor(_ step: PlanStep, at i: Int, shapes: [String: [Int]], lastUse: [String: Int],
                                     bufferOfValue: [String: Int], buffers: [MemoryPlan.Buffer]) -> Int? {
        let candidates: [String]
        switch step.kernel {
        case .activation, .channelAffine, .copy: candidates = [step.inputs[0]]
        case .add, .tensor(.binary): candidates = step.inputs
        case .tensor(let k) where k.isView: candidates = [step.inputs[0]]
        default: candidates = []  // a conv's SGEMM stores partial sums before it reads the residual
        }
        let count = (shapes[step.output] ?? []).reduce(1, *)
        for name in candidates {
            let sameShape = shapes[name] == shapes[step.output] || (step.kernel.isElementwise && shapes[name]?.reduce(1, *) == count)
            guard lastUse[name] == i, let b = bufferOfValue[name], sameShape,
                  step.inputs.filter({ $0 == name }).count == 1 || step.kernel.isElementwise
            else { continue }
            return b
        }
        return nil
    }

    /// Largest first, each at the lowest offset free during its whole lifetime.
    private static func placeGreedyBySize(_ buffers: inout [MemoryPlan.Buffer]) -> Int {
        let order = buffers.indices.sorted { (buffers[$0].bytes, buffers[$1].firstStep) > (buffers[$1].bytes, buffers[$0].firstStep) }
        var placed: [Int] = []
        var peak = 0
        for b in order {
            let overlapping = placed
                .filter { buffers[$0].firstStep <= buffers[b].lastStep && buffers[b].firstStep <= buffers[$0].lastStep }
                .sorted { buffers[$0].offset < buffers[$1].offset }
            var offset = 0
            for other in overlapping {
                if offset + buffers[b].bytes <= buffers[other].offset { break }
                offset = max(offset, buffers[other].offset + buffers[other].bytes)
            }
            buffers[b].offset = offset
            placed.append(b)
            peak = max(peak, offset + buffers[b].bytes)
        }
        return peak
    }

    /// No reuse: every buffer gets its own region.
    private static func placeSequentially(_ buffers: inout [MemoryPlan.Buffer]) -> Int {
        var offset = 0
        for b in buffers.indices {
            buffers[b].offset = offset
            offset += buffers[b].bytes
        }
        return offset
    }

    static func roundUp(_ bytes: Int) -> Int { (bytes + alignment - 1) / alignment * alignment }
}
