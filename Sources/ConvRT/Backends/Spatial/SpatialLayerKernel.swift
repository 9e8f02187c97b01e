/// A planned pooling, padding or resizing step: MaxPool/AvgPool, AdaptiveAvg/MaxPool, the Pad
/// layers and Upsample, with attributes resolved by shape inference.
///
/// Every kernel writes each output element once from the input (never in place) and splits its
/// work over output rows, so results do not depend on the thread count.
public struct SpatialLayerKernel: Sendable {
    public enum Layer: Sendable {
        case pool(PoolAttributes)
        case adaptivePool(AdaptivePoolAttributes)
        case pad(PadAttributes)
        case resize(ResizeAttributes)
    }

    public var layer: Layer
    /// How many threads may share the work (the planner sets `PlanOptions.threads`).
    var threads = 1

    /// The kernel of a pooling, padding or resizing op (shape-inferred).
    init(_ op: Op) throws {
        switch op {
        case .pool(let a): layer = .pool(a)
        case .adaptivePool(let a): layer = .adaptivePool(a)
        case .pad(let a): layer = .pad(a)
        case .resize(let a): layer = .resize(a)
        default: throw ConvRTError("\(op.displayName) is not a pooling, padding or resizing layer")
        }
    }

    /// Computes `out` (`outShape`) from `x` (`inShape`).
    func run(_ x: UnsafePointer<Float>, inShape: [Int], out: UnsafeMutablePointer<Float>, outShape: [Int]) {
        switch layer {
        case .pool(let a):
            SpatialPooling.pool(a, x, inShape: inShape, out: out, outShape: outShape, threads: threads)
        case .adaptivePool(let a):
            SpatialPooling.adaptive(a, x, inShape: inShape, out: out, outShape: outShape, threads: threads)
        case .pad(let p):
            let maps = SpatialGather.padMaps(p, inShape: inShape)
            SpatialGather.gather(x, inShape: inShape, maps: maps, fill: p.value, out: out, threads: threads)
        case .resize(let a) where a.mode == .nearest:
            let maps = SpatialGather.nearestMaps(a, inShape: inShape, outShape: outShape)
            SpatialGather.gather(x, inShape: inShape, maps: maps, fill: 0, out: out, threads: threads)
        case .resize(let a):
            SpatialResize.linear(a, x, inShape: inShape, out: out, outShape: outShape, threads: threads)
        }
    }

    /// Splits `rows` into contiguous chunks run on up to `threads` threads.
    static func forEachRowChunk(_ rows: Int, threads: Int, _ body: (Range<Int>) -> Void) {
        guard rows > 0 else { return }
        let chunks = min(rows, max(1, threads) * 4)
        ThreadPool.parallelFor(chunks, threads: threads) { c in
            body(rows * c / chunks..<rows * (c + 1) / chunks)
        }
    }
}

extension StepKernel {
    /// The kernel set up to use `threads` threads (spatial layers; other kernels are returned as is).
    func withThreads(_ threads: Int) -> StepKernel {
        switch self {
        case .layer(var kernel):
            kernel.threads = threads
            return .layer(kernel)
        case .tensor(let kernel): return .tensor(kernel.using(threads: threads))
        default: return self
        }
    }
}
