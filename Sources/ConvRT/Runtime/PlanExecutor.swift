/// Wraps the run of step `index` (the closure) to time it; see `CompiledModel.profile`.
typealias StepTimer = (_ index: Int, _ runStep: () -> Void) -> Void

/// Runs an `ExecutionPlan` over one arena allocation with the direct kernels.
enum PlanExecutor {
    /// Runs with a fresh arena.
    static func run(_ plan: ExecutionPlan, inputs: [String: Tensor]) throws -> [String: Tensor] {
        try ArenaPool().withArena(bytes: plan.memory.arenaBytes) { try run(plan, inputs: inputs, arena: $0) }
    }

    /// Runs in `arena`, which holds at least `plan.memory.arenaBytes` bytes.
    ///
    /// Graph inputs and outputs live outside the arena, never aliased with it: kernels read the
    /// inputs' own storage (no step writes a graph input) and write the outputs straight into
    /// the arrays returned, so a run copies neither.
    static func run(_ plan: ExecutionPlan, inputs: [String: Tensor], arena: UnsafeMutableRawPointer,
                    timeStep: StepTimer? = nil) throws -> [String: Tensor] {
        for name in plan.inputs {
            guard let tensor = inputs[name] else { throw ConvRTError("missing input '\(name)'") }
            guard plan.shapes[name] == tensor.shape else {
                throw ConvRTError("input '\(name)' has shape \(tensor.shape), the plan is for \(plan.shapes[name] ?? [])")
            }
        }
        var outputs: [(name: String, count: Int)] = []
        for name in plan.outputs where !plan.inputs.contains(name) && !outputs.contains(where: { $0.name == name }) {
            outputs.append((name, plan.shapes[name]?.reduce(1, *) ?? 0))
        }
        let arrays = withInputs(plan.inputs[...], inputs, [:]) { inputPointers in
            withOutputs(outputs[...], inputPointers) { external in
                execute(plan, external: external, arena: arena, timeStep: timeStep)
            }
        }
        var results: [String: Tensor] = [:]
        for name in plan.outputs {
            results[name] = Tensor(shape: plan.shapes[name] ?? [], data: arrays[name] ?? inputs[name]?.data ?? [])
        }
        return results
    }

    /// Calls `body` with pointers to the inputs' storage added to `pointers`.
    private static func withInputs<R>(_ names: ArraySlice<String>, _ inputs: [String: Tensor],
                                      _ pointers: [String: UnsafeMutablePointer<Float>],
                                      _ body: ([String: UnsafeMutablePointer<Float>]) throws -> R) rethrows -> R {
        guard let name = names.first, let tensor = inputs[name] else { return try body(pointers) }
        return try tensor.data.withUnsafeBufferPointer { buffer in
            var pointers = pointers
            // Kernels only read it. An empty tensor may have no storage; nothing reads it then.
            pointers[name] = UnsafeMutablePointer(mutating: buffer.baseAddress ?? UnsafePointer(emptyStorage))
            return try withInputs(names.dropFirst(), inputs, pointers, body)
        }
    }

    /// Allocates an array per output, calls `body` with pointers to them added to `pointers`
    /// (it must fill them), and returns the arrays.
    private static func withOutputs(_ outputs: ArraySlice<(name: String, count: Int)>,
                                    _ pointers: [String: UnsafeMutablePointer<Float>],
                                    _ body: ([String: UnsafeMutablePointer<Float>]) throws -> Void) rethrows -> [String: [Float]] {
        guard let (name, count) = outputs.first else {
            try body(pointers)
            return [:]
        }
        var arrays: [String: [Float]] = [:]
        let array = try [Float](unsafeUninitializedCapacity: max(count, 1)) { buffer, initialized in
            var pointers = pointers
            pointers[name] = buffer.baseAddress!
            arrays = try withOutputs(outputs.dropFirst(), pointers, body)
            initialized = count
        }
        arrays[name] = array
        return arrays
    }

    /// Runs every step, graph inputs and outputs at `external`, everything else in `arena`.
    private static func execute(_ plan: ExecutionPlan, external: [String: UnsafeMutablePointer<Float>],
                                arena: UnsafeMutableRawPointer, timeStep: StepTimer?) {
        func pointer(_ value: String) -> UnsafeMutablePointer<Float> {
            if let p = external[value] { return p }
            let offset = plan.memory.buffers[plan.memory.bufferOfValue[value]!].offset
            return (arena + offset).assumingMemoryBound(to: Float.self)
        }
        // Empty outputs (batch 0, a 0-channel conv input) need no kernel; PyTorch skips its checks on them too.
        for (index, step) in plan.steps.enumerated() where plan.shapes[step.output]?.contains(0) == false {
            let scratch = plan.memory.scratchOfStep[index].map {
                (arena + plan.memory.buffers[$0].offset).assumingMemoryBound(to: Float.self)
            }
            let operands = step.inputs.map { UnsafePointer(pointer($0)) }
            let out = pointer(step.output)
            if let timeStep {
                timeStep(index) { run(step, plan: plan, operands: operands, out: out, scratch: scratch) }
            } else {
                run(step, plan: plan, operands: operands, out: out, scratch: scratch)
            }
        }
    }

    private static func run(_ step: PlanStep, plan: ExecutionPlan, operands x: [UnsafePointer<Float>],
                            out: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>?) {
        let inShape = step.inputs.first.flatMap { plan.shapes[$0] } ?? []  // a Constant has no operand
        let outShape = plan.shapes[step.output] ?? []
        switch step.kernel {
        case .conv(let a, let weight, let bias, let epilogue):
            conv(a, weight: weight, bias: bias, epilogue: epilogue, algorithm: step.convAlgorithm ?? .direct,
                 x: x, inShape: inShape, outShape: outShape, out: out, scratch: scratch,
                 layout: StepScratch(step, shapes: plan.shapes))
        case .unfold(let w):
            let s = batched(inShape, rank: 4)
            DirectLayout.unfold(x[0], batch: s[0], channels: s[1], height: s[2], width: s[3], window: w, out: out)
        case .fold(let f):
            let s = batched(outShape, rank: 4)
            DirectLayout.fold(x[0], batch: s[0], channels: s[1], height: s[2], width: s[3], window: f.window, out: out)
        case .channelAffine(let scale, let shift):
            DirectElementwise.channelAffine(x[0], batch: inShape[0], channels: scale.count,
                                            plane: inShape.dropFirst(2).reduce(1, *), scale: scale, shift: shift, out: out)
        case .batchStatisticsNorm(let eps, let weight, let bias):
            DirectElementwise.batchStatisticsNorm(x[0], batch: inShape[0], channels: inShape[1], plane: inShape.dropFirst(2).reduce(1, *),
                                                  eps: eps, weight: weight?.data, bias: bias?.data, out: out)
        case .activation(let act):
            DirectElementwise.activation(act, x[0], count: outShape.reduce(1, *), out: out)
        case .add(let then):
            DirectElementwise.add(x[0], shapeA: inShape, x[1], shapeB: plan.shapes[step.inputs[1]] ?? [],
                                  shape: outShape, then: then, out: out)
        case .copy:
            if UnsafePointer(out) != x[0] { out.update(from: x[0], count: outShape.reduce(1, *)) }
        case .tensor(let k):
            k.run(x, shapes: step.inputs.map { plan.shapes[$0] ?? [] }, out: out, outShape: outShape)
        case .layer(let kernel):
            kernel.run(x[0], inShape: inShape, out: out, outShape: outShape)
        }
    }

    /// A batched view of a possibly unbatched shape: a leading 1 is added when rank is one short.
    static func batched(_ shape: [Int], rank: Int) -> [Int] {
        shape.count == rank - 1 ? [1] + shape : shape
    }

    /// The lifted geometry a conv step runs with; a non-zero padding mode convolves the padded copy.
    static func convShape(_ a: ConvAttributes, inShape: [Int], outShape: [Int]) -> ConvShape3D {
        let xs = batched(inShape, rank: a.spatialRank + 2), ys = batched(outShape, rank: a.spatialRank + 2)
        var image = Array(xs.suffix(a.spatialRank))
        var padding = a.transposed ? a.transposedPadding : a.padBeginEnd.begin
        if !a.transposed, a.paddingMode != .zeros {
            let (begin, end) = a.padBeginEnd
            image = image.indices.map { image[$0] + begin[$0] + end[$0] }
            padding = [Int](repeating: 0, count: a.spatialRank)
        }
        return ConvShape3D(batch: xs[0], inChannels: xs[1], outChannels: ys[1], groups: a.groups, image: image,
                           kernel: a.kernelSize, output: Array(ys.suffix(a.spatialRank)), stride: a.stride,
                           dilation: a.dilation, padding: padding)
    }

    private static func conv(_ a: ConvAttributes, weight: Tensor, bias: Tensor?, epilogue: Epilogue, algorithm: ConvAlgorithm,
                             x: [UnsafePointer<Float>], inShape: [Int], outShape: [Int],
                             out: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>?, layout: StepScratch) {
        let residual = epilogue.residualInput.map { x[$0] }
        // Planned with the step: present whenever the algorithm needs a workspace.
        let workspace = scratch.map { $0 + layout.paddedInput }
        var source = x[0]
        if !a.transposed, a.paddingMode != .zeros, let scratch {
            // Like PyTorch: pad with the mode first, then convolve without padding.
            let xs = batched(inShape, rank: a.spatialRank + 2)
            let (begin, end) = a.padBeginEnd
            DirectLayout.pad(x[0], planes: xs[0] * xs[1], image: Array(xs.suffix(a.spatialRank)), begin: begin, end: end,
                             mode: a.paddingMode, out: scratch)
            source = UnsafePointer(scratch)
        }
        let shape = convShape(a, inShape: inShape, outShape: outShape)
        if case .gemm(let gemm) = algorithm {
            gemm.run(shape, x: source, residual: residual, y: out, workspace: workspace)
            return
        }
        if case .pixelMajorGEMM(let gemm) = algorithm, let workspace {
            gemm.run(shape, x: source, residual: residual, y: out, workspace: workspace)
            return
        }
        if case .depthwise(let d) = algorithm, let workspace {
            d.run(shape, x: source, residual: residual, y: out, scratch: workspace)
            return
        }
        if case .transposedGEMM(let gemm) = algorithm, let workspace {
            gemm.run(shape, x: source, residual: residual, y: out, columns: workspace)
            return
        }
        if case .winograd(let winograd) = algorithm, let workspace {
            winograd.run(shape, x: source, residual: residual, y: out, workspace: workspace)
            return
        }
        weight.data.withUnsafeBufferPointer { w in
            (bias?.data).withOptionalPointer { bp in
                if a.transposed {
                    DirectConv.convTranspose(shape, x: source, weight: w.baseAddress!, bias: bp, epilogue: epilogue,
                                             residual: residual, y: out, accumulator: workspace!)
                } else {
                    DirectConv.conv(shape, x: source, weight: w.baseAddress!, bias: bp, epilogue: epilogue,
                                    residual: residual, y: out, accumulator: workspace!)
                }
            }
        }
    }
}

/// Stands in for the storage of an empty input (never read).
private nonisolated(unsafe) let emptyStorage = UnsafeMutablePointer<Float>.allocate(capacity: 1)

extension Optional where Wrapped == [Float] {
    /// Calls `body` with a pointer to the array's elements, or `nil`.
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let array = self else { return body(nil) }
        return array.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
