// SGEMM throughput on conv-shaped problems, through the same API the runtime uses.
//   swift run -c release convrt-gemm-bench [--isa avx2|avx512|portable|neon] [--runs N]
// Prints, per shape and thread count, the median and best wall time and GFLOP/s
// (a multiply-add counts 2), plus GFLOP/s per CPU-second (all threads' CPU time),
// which a shared machine's other load disturbs less. Before each shape it measures a
// small cache-resident product: the kernels' own rate on this machine right now,
// to read the shapes against (compare ratios, not absolute numbers, on a shared host).
import ConvRT

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct Shape {
    let name: String, m: Int, n: Int, k: Int
}

let shapes = [
    Shape(name: "3x3 64ch 56x56 (im2col)", m: 64, n: 3136, k: 576),
    Shape(name: "1x1 256->64 56x56", m: 64, n: 3136, k: 256),
    Shape(name: "3x3 256ch 14x14 (im2col)", m: 256, n: 196, k: 1152),
    Shape(name: "7x7 stem 3->64 112x112", m: 64, n: 12544, k: 147),
]

func seconds(_ clock: clockid_t) -> Double {
    var t = timespec()
    clock_gettime(clock, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

func option(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

let isa = option("--isa").flatMap(SGEMM.ISA.init(rawValue:)) ?? .best
let runs = option("--runs").flatMap(Int.init) ?? 200
guard isa.isSupported else {
    print("\(isa.rawValue) is not supported on this CPU (supported: \(SGEMM.ISA.supported.map(\.rawValue)))")
    exit(1)
}
print("kernel \(isa.kernelName), \(runs) runs per case")

/// A 64-byte aligned buffer, as the runtime's arena gives the kernels.
func alignedBuffer(_ count: Int, _ fill: () -> Float) -> UnsafeMutableBufferPointer<Float> {
    let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
    let buffer = UnsafeMutableBufferPointer(start: raw.bindMemory(to: Float.self, capacity: count), count: count)
    for i in 0..<count { buffer[i] = fill() }
    return buffer
}

func measure(_ s: Shape, threads: Int) -> (median: Double, best: Double, cpu: Double) {
    var seed: UInt32 = 1
    func random() -> Float {
        seed = seed &* 1_664_525 &+ 1_013_904_223
        return Float(seed >> 8 & 0xffff) / 32768 - 1
    }
    let a = (0..<s.m * s.k).map { _ in random() }
    let b = alignedBuffer(s.k * s.n, random), bias = alignedBuffer(s.m, random)
    let c = alignedBuffer(s.m * s.n) { 0 }
    defer { [b, bias, c].forEach { $0.deallocate() } }
    let packed = PackedMatrixA(rows: s.m, columns: s.k, array: a, isa: isa)
    let epilogue = SGEMMEpilogue(bias: bias.baseAddress, activation: .relu)
    var wall: [Double] = []
    var cpuBest = Double.infinity
    // One thread: this thread's CPU time; several: the process's (all workers).
    let cpuClock = threads == 1 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_PROCESS_CPUTIME_ID
    for run in 0..<(runs + 10) {
        let t0 = seconds(CLOCK_MONOTONIC), c0 = seconds(cpuClock)
        SGEMM.multiply(packedA: packed, b: b.baseAddress!, ldb: s.n, c: c.baseAddress!, ldc: s.n,
                           m: s.m, n: s.n, k: s.k, epilogue: epilogue, threads: threads)
        let t1 = seconds(CLOCK_MONOTONIC), c1 = seconds(cpuClock)
        if run >= 10 {  // warm-up first
            wall.append(t1 - t0)
            cpuBest = min(cpuBest, c1 - c0)
        }
    }
    wall.sort()
    return (wall[wall.count / 2], wall[0], cpuBest)
}

// Everything fits in L1/L2: the micro-kernel rate, without memory traffic.
let calibration = Shape(name: "in-cache", m: 48, n: 96, k: 128)

func gflops(_ s: Shape, _ seconds: Double) -> Double { 2.0 * Double(s.m * s.n * s.k) / seconds / 1e9 }

for s in shapes {
    let reference = gflops(calibration, measure(calibration, threads: 1).cpu)
    print("in-cache kernel rate now: \(fmt(reference)) GF/s per CPU-second")
    let flops = 2.0 * Double(s.m * s.n * s.k)
    for threads in [1, 2] {
        let r = measure(s, threads: threads)
        let gf = { (t: Double) in flops / t / 1e9 }
        var line = "\(s.name) M=\(s.m) N=\(s.n) K=\(s.k) threads=\(threads): "
        line += "median \(fmt(r.median * 1e3)) ms = \(fmt(gf(r.median))) GF/s, best \(fmt(gf(r.best))) GF/s"
        line += ", per CPU-second \(fmt(gf(r.cpu))) GF/s (\(fmt(100 * gf(r.cpu) / reference))% of in-cache)"
        print(line)
    }
}

func fmt(_ x: Double) -> String {
    let scaled = (x * 100).rounded() / 100
    return String(scaled)
}
