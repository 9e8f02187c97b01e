import CKernels
import Foundation

/// A convolution as SGEMMs per image and group:
/// `[Cout/g x Cin/g*k] (packed weights) x [Cin/g*k x outPlane] (im2col) -> [Cout/g x outPlane]`,
/// with bias, residual and a ReLU/clamp/LeakyReLU applied in the SGEMM's store. A 1x1, stride-1,
/// unpadded conv reads the input directly as B (no im2col); any other runs as a blocked
/// implicit GEMM (``ImplicitGEMM``: im2col one cache-sized column block at a time).
struct GEMMConv: @unchecked Sendable {
    /// One packed weight matrix per group, packed once when the plan is made.
    let groupWeights: [PackedMatrixA]
    let bias: [Float]?
    /// The activation the SGEMM store applies; `nil` when it cannot (then a second pass runs `trailing`).
    let storeActivation: SGEMMEpilogue.Activation
    let trailing: Activation?
    let threads: Int
    /// Floats an im2col slab may take (tests shrink it to cut small convolutions into many blocks).
    var slabBudget = ColumnBlocking.slabBudget

    /// Whether this epilogue fits the SGEMM store: bias, + residual, then one activation.
    static func supports(_ e: Epilogue) -> Bool { !(e.preActivation != nil && e.residualInput != nil) }

    init(_ a: ConvAttributes, weight: Tensor, bias: Tensor?, epilogue e: Epilogue, threads: Int) {
        let coutG = a.outChannels / a.groups
        let k = weight.count / max(a.outChannels, 1)
        groupWeights = weight.data.withUnsafeBufferPointer { w in
            (0..<a.groups).map { g in
                PackedMatrixA(rows: coutG, columns: k, array: Array(w[(g * coutG * k)..<((g + 1) * coutG * k)]))
            }
        }
        self.bias = bias?.data
        let activation = e.residualInput == nil ? e.preActivation : e.postActivation
        let mapped = activation.flatMap(Self.storeActivation(for:))
        storeActivation = mapped ?? .none
        trailing = mapped == nil ? activation : nil
        self.threads = threads
    }

    static func storeActivation(for a: Activation) -> SGEMMEpilogue.Activation? {
        switch a {
        case .relu: return .relu
        case .relu6: return .clamp(min: 0, max: 6)
        case .hardtanh(let lo, let hi): return .clamp(min: lo, max: hi)
        case .leakyReLU(let slope): return .leakyReLU(slope: slope)
        default: return nil
        }
    }

    /// Whether B can be read straight from the input: a 1x1 kernel, stride 1, no padding.
    static func readsInputDirectly(_ s: ConvShape3D) -> Bool {
        s.kernelVolume == 1 && s.stride == (1, 1, 1) && s.padding == (0, 0, 0)
            && s.output == s.image
    }

    /// Floats of workspace `run` needs: the im2col slabs (none for a direct 1x1), plus 16 to
    /// align them to a cache line.
    func workspaceFloats(_ s: ConvShape3D) -> Int {
        Self.readsInputDirectly(s) ? 0 : blocking(s).slabCount * blocking(s).slabFloats + 16
    }

    func blocking(_ s: ConvShape3D) -> ColumnBlocking {
        let isa = groupWeights.first?.isa ?? .best
        var plan = convrt_sgemm_plan()
        _ = convrt_sgemm_plan_make(isa.cValue, s.outChannels / s.groups, 1, (s.inChannels / s.groups) * s.kernelVolume, 1, &plan)
        return ColumnBlocking(s, threads: threads, tile: isa.tile, kc: plan.kc, budget: slabBudget)
    }

    /// Runs the convolution; `workspace` holds ``workspaceFloats(_:)`` floats.
    func run(_ s: ConvShape3D, x: UnsafePointer<Float>, residual: UnsafePointer<Float>?,
             y: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>?) {
        bias.withOptionalPointer { biasPointer in
            let output = GEMMConvOutput(y: y, residual: residual, bias: biasPointer)
            if Self.readsInputDirectly(s) {
                runDirect(s, x: x, output)
            } else if let workspace {
                let aligned = UnsafeMutableRawPointer(workspace).alignedUp(toMultipleOf: 64)
                    .assumingMemoryBound(to: Float.self)
                ImplicitGEMM(conv: self, shape: s, blocking: blocking(s), x: x, output: output,
                             slabs: aligned).run()
            }
        }
    }

    /// A 1x1, stride-1, unpadded conv: B is the input itself, threads split each product.
    private func runDirect(_ s: ConvShape3D, x: UnsafePointer<Float>, _ out: GEMMConvOutput) {
        let cinG = s.inChannels / s.groups, coutG = s.outChannels / s.groups, n = s.outputPlane
        for image in 0..<s.batch {
            for g in 0..<s.groups {
                let xGroup = x + (image * s.inChannels + g * cinG) * s.imagePlane
                let offset = (image * s.outChannels + g * coutG) * n
                SGEMM.multiply(packedA: groupWeights[g], b: xGroup, ldb: n, c: out.y + offset, ldc: n,
                               m: coutG, n: n, k: cinG, epilogue: epilogue(out, group: g, offset: offset, ldr: n),
                               threads: threads)
                if let trailing {
                    DirectElementwise.activation(trailing, out.y + offset, count: coutG * n, out: out.y + offset)
                }
            }
        }
    }

    /// The store epilogue of group `g`'s output block at `offset` (residual row stride `ldr`).
    func epilogue(_ out: GEMMConvOutput, group g: Int, offset: Int, ldr: Int) -> SGEMMEpilogue {
        SGEMMEpilogue(bias: out.bias.map { $0 + g * groupWeights[g].rows },
                      residual: out.residual.map { $0 + offset }, residualStride: ldr,
                      activation: storeActivation)
    }
}

/// Where a GEMM convolution writes, and what its store adds.
struct GEMMConvOutput: @unchecked Sendable {
    let y: UnsafeMutablePointer<Float>
    let residual: UnsafePointer<Float>?
    let bias: UnsafePointer<Float>?
}
