import ArgumentParser
import ConvRT
import Foundation

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the shapes shape inference resolved, parameters and FLOPs of each node.")

    enum Format: String, ExpressibleByArgument { case table, json }

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .customLong("input-shape"), help: "Bind an input's shape, e.g. x=1,3,224,224 (repeatable).")
    var inputShapes: [String] = []

    @Option(help: "table or json.")
    var format: Format = .table

    func run() throws {
        try reportingErrors {
            var inferred = try modelOptions.load()
            if !inputShapes.isEmpty {
                inferred = try rebind(inferred)
            }
            let summary = ModelSummary(inferred)
            let plan = try executionPlan(inferred)
            print(format == .json ? try json(summary, plan: plan) : table(summary) + planText(plan))
        }
    }

    /// Re-runs shape inference with some inputs bound to concrete shapes.
    private func rebind(_ inferred: InferredGraph) throws -> InferredGraph {
        let graph = inferred.graph
        var shapes = Dictionary(uniqueKeysWithValues: graph.inputs.map { ($0.name, $0.shape) })
        for text in inputShapes {
            let (name, dims) = try parseShapeBinding(text)
            guard shapes[name] != nil else {
                throw ConvRTError("--input-shape: unknown input '\(name)'; the model's inputs are \(graph.inputs.map(\.name).joined(separator: ", "))")
            }
            shapes[name] = dims.dims
        }
        let concrete = shapes.compactMapValues(\.concrete)
        let partial = Graph(inputs: graph.inputs.filter { concrete[$0.name] != nil }, nodes: [], outputs: [])
        _ = try ShapeInference.bindInputs(partial, shapes: concrete)
        return try ShapeInference.run(graph, inputShapes: shapes)
    }

    /// The execution plan, when every input shape is concrete (declared or bound).
    private func executionPlan(_ inferred: InferredGraph) throws -> ExecutionPlan? {
        var shapes: [String: [Int]] = [:]
        for input in inferred.graph.inputs {
            guard let concrete = inferred.shape(of: input.name).concrete else { return nil }
            shapes[input.name] = concrete
        }
        return try modelOptions.compiledModel(inferred.graph).plan(for: shapes)
    }

    private func planText(_ plan: ExecutionPlan?) -> String {
        guard let plan else { return "\n\nplan: bind the symbolic input dims with --input-shape to see the fused steps and memory plan" }
        var rows = [["step", "op", "algorithm", "covers", "output"]]
        for (i, step) in plan.steps.enumerated() {
            rows.append([String(i), step.opName, step.algorithm ?? "", step.covers.joined(separator: ", "),
                         (plan.shapes[step.output] ?? []).bracketedShape])
        }
        var text = "\n\nsteps (\(plan.steps.count) for \(plan.steps.reduce(0) { $0 + $1.covers.count }) layers):\n" + renderTable(rows)
        var memory = [["buffer", "offset", "bytes", "steps", "holds"]]
        for (i, b) in plan.memory.buffers.enumerated() {
            memory.append([String(i), String(b.offset), String(b.bytes), "\(b.firstStep)-\(b.lastStep)", b.values.joined(separator: ", ")])
        }
        let m = plan.memory
        let ratio = m.naiveBytes > 0 ? String(format: " (%.1f%%)", 100 * Double(m.arenaBytes) / Double(m.naiveBytes)) : ""
        text += "\n\nmemory plan:\n" + renderTable(memory)
        text += "\narena peak \(m.arenaBytes) bytes vs naive \(m.naiveBytes) bytes\(ratio)"
        return text
    }

    private func table(_ s: ModelSummary) -> String {
        var rows = [["name", "op", "inputs", "output", "attributes", "params", "FLOPs"]]
        for input in s.inputs {
            rows.append([input.name, "Input", "", input.shape.rendered, "", "", ""])
        }
        for n in s.nodes {
            let ins = zip(n.inputs, n.inputShapes).map { "\($0)\($1.rendered)" }.joined(separator: " ")
            rows.append([n.name, n.op, ins, n.outputShape.rendered, n.attributes, String(n.parameterCount),
                         n.flops.map(formatCount) ?? "?"])
        }
        var text = renderTable(rows)
        let flops = s.totalFLOPs.map(formatCount) ?? "? (symbolic dims: bind them with --input-shape)"
        text += "\ntotal: \(s.nodes.count) nodes, \(s.totalParameters) parameters, \(flops) FLOPs"
        let shapes = Dictionary(s.inputs.map { ($0.name, $0.shape) } + s.nodes.map { ($0.name, $0.outputShape) },
                                uniquingKeysWith: { first, _ in first })
        text += "\noutputs: " + s.outputs.map { "\($0)\(shapes[$0]?.rendered ?? "")" }.joined(separator: ", ")
        return text
    }

    private func json(_ s: ModelSummary, plan: ExecutionPlan?) throws -> String {
        func shape(_ dims: SymbolicShape) -> [Any] { dims.map { $0.value.map { $0 as Any } ?? $0.description } }
        var object: [String: Any] = [
            "inputs": s.inputs.map { ["name": $0.name, "shape": shape($0.shape)] },
            "nodes": s.nodes.map { n -> [String: Any] in
                ["name": n.name, "op": n.op, "inputs": n.inputs, "input_shapes": n.inputShapes.map(shape),
                 "output_shape": shape(n.outputShape), "attributes": n.attributes, "params": n.parameterCount,
                 "flops": n.flops.map { $0 as Any } ?? NSNull()]
            },
            "outputs": s.outputs,
            "totals": ["params": s.totalParameters, "flops": s.totalFLOPs.map { $0 as Any } ?? NSNull()],
        ]
        if let plan {
            object["steps"] = plan.steps.map {
                ["name": $0.output, "op": $0.opName, "covers": $0.covers, "inputs": $0.inputs,
                 "algorithm": $0.algorithm.map { $0 as Any } ?? NSNull()]
            }
            object["memory"] = [
                "arena_bytes": plan.memory.arenaBytes, "naive_bytes": plan.memory.naiveBytes,
                "buffers": plan.memory.buffers.map {
                    ["offset": $0.offset, "bytes": $0.bytes, "first_step": $0.firstStep, "last_step": $0.lastStep,
                     "values": $0.values, "scratch": $0.isScratch] as [String: Any]
                },
            ] as [String: Any]
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

/// `1234567` as `1.23M`.
func formatCount(_ n: Int) -> String {
    let units: [(Double, String)] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")]
    for (scale, suffix) in units where Double(n) >= scale {
        return String(format: "%.2f%@", Double(n) / scale, suffix)
    }
    return String(n)
}

/// Left-aligned columns separated by two spaces, with a rule under the header.
func renderTable(_ rows: [[String]]) -> String {
    let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
    // The last non-empty cell is not padded: a long last column (a buffer holding thousands of
    // values) would otherwise pad every row to its width, quadratic in the table's size.
    func line(_ row: [String]) -> String {
        let last = row.lastIndex { !$0.isEmpty } ?? 0
        return row.indices.prefix(last + 1).map { c in
            c == last ? row[c] : row[c] + String(repeating: " ", count: widths[c] - row[c].count)
        }.joined(separator: "  ")
    }
    let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
    return ([line(rows[0]), rule] + rows.dropFirst().map(line)).joined(separator: "\n")
}

extension Array where Element == Int {
    var bracketedShape: String { "[" + map(String.init).joined(separator: ", ") + "]" }
}
