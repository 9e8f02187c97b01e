import Foundation
import Testing
@testable import ConvRT

/// One `CompiledModel` shared by many Swift tasks: every run gets its own arena and buffers,
/// so concurrent results are bit-identical to serial ones. Run under the thread sanitizer with
/// `swift test --scratch-path .build-tsan -Xswiftc -sanitize=thread --filter ConcurrencyTests`.
@Suite struct ConcurrencyTests {
    /// Compile-time proof that the model type is `Sendable` without `@unchecked`.
    static func requireSendable<T: Sendable>(_: T.Type) {}

    static func model(_ name: String, threads: Int = 2) throws -> CompiledModel {
        requireSendable(CompiledModel.self)
        let url = URL(fileURLWithPath: "Models/\(name).convnet", relativeTo: packageRootURL)
        return CompiledModel(graph: try ModelCompiler.load(contentsOf: url).graph, options: PlanOptions(threads: threads))
    }

    /// The 16 runs' inputs: distinct data, shaped for the model's input (symbols bound to `batch(i)`).
    static func inputs(for model: CompiledModel, batch: (Int) -> Int = { _ in 1 }) -> [[String: Tensor]] {
        (0..<16).map { i in
            Dictionary(uniqueKeysWithValues: model.graph.inputs.map { input in
                (input.name, sampleTensor(input.shape.map { $0.value ?? batch(i) }, seed: UInt64(i + 1)))
            })
        }
    }

    /// Runs every input at once from a task group; results in input order.
    static func concurrently(_ model: CompiledModel, _ inputs: [[String: Tensor]]) async throws -> [[String: Tensor]] {
        try await withThrowingTaskGroup(of: (Int, [String: Tensor]).self) { group in
            for (i, input) in inputs.enumerated() {
                group.addTask { (i, try model.run(input)) }
            }
            var results = [[String: Tensor]](repeating: [:], count: inputs.count)
            for try await (i, output) in group { results[i] = output }
            return results
        }
    }

    static func expectBitIdentical(_ a: [[String: Tensor]], _ b: [[String: Tensor]],
                                   sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(a.count == b.count, sourceLocation: sourceLocation)
        for (x, y) in zip(a, b) {
            #expect(x.keys.sorted() == y.keys.sorted(), sourceLocation: sourceLocation)
            for (name, tensor) in x {
                #expect(tensor.shape == y[name]?.shape, "\(name)", sourceLocation: sourceLocation)
                #expect(tensor.data.map(\.bitPattern) == y[name]?.data.map(\.bitPattern), "\(name)", sourceLocation: sourceLocation)
            }
        }
    }

    /// 16 concurrent inferences on one model (same input shape, so one shared plan) match serial runs.
    @Test(arguments: ["lazy2d", "grouped3d"])
    func concurrentRunsMatchSerialRuns(_ name: String) async throws {
        let model = try Self.model(name)
        let inputs = Self.inputs(for: model)
        let serial = try inputs.map { try model.run($0) }
        Self.expectBitIdentical(try await Self.concurrently(model, inputs), serial)
        #expect(model.cachedPlanCount == 1)
    }

    /// Concurrent runs with different batch sizes plan concurrently on a fresh model, and still
    /// match serial runs on another model.
    @Test func concurrentPlanningForDifferentShapes() async throws {
        let model = try Self.model("audio1d"), serialModel = try Self.model("audio1d")
        let inputs = Self.inputs(for: model, batch: { $0 % 3 })  // N = 0, 1, 2
        let concurrent = try await Self.concurrently(model, inputs)
        Self.expectBitIdentical(concurrent, try inputs.map { try serialModel.run($0) })
        #expect(model.cachedPlanCount == 3)
    }

    /// Planning threads inside each run (`threads: 2`) and concurrent runs together: a model that
    /// takes the SGEMM path in every conv, as the lazy2d one does for its multi-channel convs.
    @Test func concurrentRunsWithKernelThreads() async throws {
        let model = try Self.model("lazy2d", threads: 4)
        let inputs = Self.inputs(for: model)
        let reference = try Self.model("lazy2d", threads: 1)
        Self.expectBitIdentical(try await Self.concurrently(model, inputs), try inputs.map { try reference.run($0) })
    }

    /// The plan cache keeps at most `planCacheCapacity` shapes, least recently used out.
    @Test func planCacheIsBounded() throws {
        var b = GraphBuilder()
        b.inputs = [GraphInput(name: "x", shape: [.symbol("N"), .known(2), .known(3)])]
        _ = b.op("r", .activation(.relu), "x")
        let model = CompiledModel(graph: b.graph(outputs: ["r"]))
        let capacity = CompiledModel.planCacheCapacity
        for n in 0..<(capacity + 5) { _ = try model.run(["x": Tensor(zeros: [n, 2, 3])]) }
        #expect(model.cachedPlanCount == capacity)
    }

    /// A burst of concurrent runs leaves only a few arenas idle, each reused by later runs.
    @Test func arenaPoolKeepsAFewArenas() async throws {
        let pool = ArenaPool(keep: 2)
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<8 {
                group.addTask {
                    pool.withArena(bytes: 1024 * (i + 1)) { pointer in
                        // Each run owns its arena: fill it completely and check nobody else wrote.
                        let floats = pointer.bindMemory(to: Float.self, capacity: 256 * (i + 1))
                        for k in 0..<(256 * (i + 1)) { floats[k] = Float(i) }
                        usleep(1000)
                        #expect((0..<(256 * (i + 1))).allSatisfy { floats[$0] == Float(i) })
                    }
                }
            }
        }
        #expect(pool.idleCount == 2)
    }
}
