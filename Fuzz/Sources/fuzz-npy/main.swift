import ConvRT
import Foundation
import FuzzSupport

/// `.npy` bytes -> header parsing, dtype conversion, Fortran reordering; whatever decodes must
/// survive `NPY.encode` and decode again to the same bits.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    Fuzz.run {
        let (tensor, _) = try NPY.decode(Fuzz.data(start, count), name: "fuzz.npy", limit: Fuzz.limit)
        let again: Tensor
        do {
            again = try NPY.decode(NPY.encode(tensor), name: "again.npy", limit: Fuzz.limit).tensor
        } catch {
            fatalError("finding: an encoded array does not decode: \(error)")
        }
        guard again.shape == tensor.shape, again.data.map(\.bitPattern) == tensor.data.map(\.bitPattern) else {
            fatalError("finding: encode/decode changed the array")
        }
    }
}
