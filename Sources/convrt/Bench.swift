import ArgumentParser
import ConvRT
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time whole-model inference on random inputs after warm-up.")

    enum Format: String, ExpressibleByArgument { case table, json }

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .customLong("input-shape"), help: "Shape of an input, e.g. x=1,3,224,224 (needed for symbolic dims).")
    var inputShapes: [String] = []

    @Option(help: "Untimed runs before measuring.")
    var warmup: Int = 3

    @Option(help: "Timed runs.")
    var iterations: Int = 20

    @Flag(help: "Time the unoptimised graph on the reference kernels instead.")
    var reference = false

    @Option(help: "table or json.")
    var format: Format = .table

    @Flag(help: "Also time each plan step (median over the timed runs) and list the steps by time.")
    var profile = false

    func run() throws {
        try reportingErrors {
            guard warmup >= 0, iterations >= 1 else { throw ConvRTError("--warmup must be >= 0 and --iterations >= 1") }
            guard !(profile && reference) else { throw ConvRTError("--profile times the planned executor's steps; drop --reference") }
            let inferred = try modelOptions.load()
            let graph = inferred.graph
            var shapes: [String: [Int]] = [:]
            for text in inputShapes {
                let (name, dims) = try parseShapeBinding(text)
                shapes[name] = dims
            }
            for input in graph.inputs where shapes[input.name] == nil {
                guard let concrete = input.shape.concrete else {
                    throw ConvRTError("input '\(input.name)' has symbolic dims \(input.shape.rendered); give its shape with --input-shape \(input.name)=...")
                }
                shapes[input.name] = concrete
            }
            let bound = try ShapeInference.bindInputs(graph, shapes: shapes)
            let flops = ModelSummary(try ShapeInference.run(graph, inputShapes: bound)).totalFLOPs ?? 0
            let model = modelOptions.compiledModel(graph)
            _ = try model.memoryEstimate(for: shapes)  // refuse before allocating the inputs
            var inputs: [String: Tensor] = [:]
            for (name, shape) in shapes {
                var state: UInt32 = 12345
                inputs[name] = Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in
                    state = state &* 1_664_525 &+ 1_013_904_223
                    return Float(state >> 8) / Float(1 << 24) - 0.5
                })
            }
            let result = try BenchmarkResult.measure(warmup: warmup, iterations: iterations) {
                _ = reference ? try model.runReference(inputs) : try model.run(inputs)
            }
            let gflops = result.median > 0 ? Double(flops) / (result.median * 1e6) : 0
            if format == .json {
                let object: [String: Any] = [
                    "median_ms": result.median, "min_ms": result.min, "max_ms": result.max,
                    "iterations": iterations, "warmup": warmup, "flops": flops, "gflops_per_s": gflops,
                    "executor": reference ? "reference" : "planned",
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(String(format: "median %.3f ms  min %.3f ms  max %.3f ms  %.2f GFLOP/s  (%d iterations after %d warm-up, %@ FLOPs)",
                             result.median, result.min, result.max, gflops, iterations, warmup, formatCount(flops)))
            }
            if profile {
                let steps = try model.profile(inputs, warmup: 1, iterations: iterations)
                print(profileTable(steps))
            }
        }
    }
}

/// The steps by time, slowest first, with their share of the summed step times.
private func profileTable(_ steps: [StepProfile]) -> String {
    let total = steps.reduce(0) { $0 + $1.milliseconds }
    var rows = [["step", "op", "algorithm", "output", "ms", "%"]]
    for s in steps.sorted(by: { $0.milliseconds > $1.milliseconds }) {
        rows.append([String(s.index), s.step.opName, s.step.algorithm ?? "", s.outputShape.bracketedShape,
                     String(format: "%.3f", s.milliseconds), String(format: "%.1f", total > 0 ? 100 * s.milliseconds / total : 0)])
    }
    return "\nsteps by median time (sum \(String(format: "%.3f", total)) ms):\n" + renderTable(rows)
}
