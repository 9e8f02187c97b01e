/// Wall-clock timings of whole-model inference, taken after warm-up.
public struct BenchmarkResult: Sendable {
    /// Milliseconds per run, in the order measured.
    public var samples: [Double]

    public var median: Double {
        let s = samples.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    public var min: Double { samples.min() ?? 0 }
    public var max: Double { samples.max() ?? 0 }

    /// Times `iterations` runs of `body` after `warmup` untimed ones.
    public static func measure(warmup: Int, iterations: Int, _ body: () throws -> Void) rethrows -> BenchmarkResult {
        for _ in 0..<warmup { try body() }
        let clock = ContinuousClock()
        var samples: [Double] = []
        samples.reserveCapacity(iterations)
        for _ in 0..<iterations {
            samples.append(try clock.measure(body).milliseconds)
        }
        return BenchmarkResult(samples: samples)
    }
}

extension Duration {
    /// The duration in milliseconds.
    var milliseconds: Double {
        Double(components.seconds) * 1e3 + Double(components.attoseconds) * 1e-15
    }
}
