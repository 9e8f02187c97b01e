import CKernels

/// A weight matrix `[rows x columns]` (Cout x Cin*kh*kw) packed once, at model load,
/// into the micro-kernel's panel layout (MR-row panels, `[columns][MR]` each).
///
/// Immutable after packing, so it can be shared by every thread of every call.
public struct PackedMatrixA: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    /// The path the panels are laid out for; every multiply with it runs that path.
    public let isa: SGEMM.ISA
    private let storage: AlignedFloats

    /// Packs row-major `data` (`rows x columns`, row stride `rowStride`, default `columns`).
    /// - Parameter isa: the path to pack for; the default is the fastest one this CPU runs.
    ///   Must be supported (tests force each path through it).
    public init(rows: Int, columns: Int, data: UnsafePointer<Float>, rowStride: Int? = nil,
                isa: SGEMM.ISA = .best) {
        let lda = rowStride ?? columns
        precondition(rows >= 0 && columns >= 0 && lda >= columns, "PackedMatrixA: bad shape")
        precondition(isa.isSupported, "PackedMatrixA: \(isa) unsupported on this CPU")
        self.rows = rows
        self.columns = columns
        self.isa = isa
        let count = convrt_sgemm_packed_a_count(isa.cValue, rows, columns)
        storage = AlignedFloats(count: count)
        convrt_sgemm_pack_a(isa.cValue, rows, columns, data, lda, storage.pointer)
    }

    /// Packs a row-major array of `rows * columns` floats.
    public init(rows: Int, columns: Int, array: [Float], isa: SGEMM.ISA = .best) {
        precondition(array.count == rows * columns, "PackedMatrixA: \(array.count) floats for \(rows)x\(columns)")
        self = array.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress {
                return PackedMatrixA(rows: rows, columns: columns, data: base, isa: isa)
            }
            // An empty array may have no storage; nothing is read then.
            return withUnsafePointer(to: Float(0)) {
                PackedMatrixA(rows: rows, columns: columns, data: $0, isa: isa)
            }
        }
    }

    var baseAddress: UnsafePointer<Float> { UnsafePointer(storage.pointer) }
}

/// Floats on the heap, 64-byte aligned (a cache line, a zmm register), freed with their owner.
final class AlignedFloats {
    let pointer: UnsafeMutablePointer<Float>

    init(count: Int) {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { pointer.deallocate() }
}
