import CKernels

/// A matrix `[rows x columns]` (K x N) used as the SGEMM's B, packed once into the
/// micro-kernel's NR-wide column panels (`[rows][NR]` each): weights that sit on the B side
/// (``PixelMajorConv``) are then read contiguously, with no packing per run.
///
/// Immutable after packing, so it can be shared by every thread of every call.
struct PackedMatrixB: @unchecked Sendable {
    let rows: Int
    let columns: Int
    /// The path the panels are laid out for; every multiply with it runs that path.
    let isa: SGEMM.ISA
    private let storage: AlignedFloats

    /// Packs a row-major array of `rows * columns` floats for `isa` (which must be supported).
    init(rows: Int, columns: Int, array: [Float], isa: SGEMM.ISA = .best) {
        precondition(array.count == rows * columns, "PackedMatrixB: \(array.count) floats for \(rows)x\(columns)")
        precondition(isa.isSupported, "PackedMatrixB: \(isa) unsupported on this CPU")
        self.rows = rows
        self.columns = columns
        self.isa = isa
        storage = AlignedFloats(count: convrt_sgemm_packed_b_count(isa.cValue, rows, columns))
        array.withUnsafeBufferPointer { b in
            if let base = b.baseAddress {
                convrt_sgemm_pack_b(isa.cValue, rows, columns, base, columns, storage.pointer)
            }
        }
    }

    var baseAddress: UnsafePointer<Float> { UnsafePointer(storage.pointer) }
}
