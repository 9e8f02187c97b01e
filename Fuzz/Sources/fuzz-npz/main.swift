import ConvRT
import Foundation
import FuzzSupport

/// `.npz` bytes -> zip directory parsing, inflation (zip bombs), CRC, then each `.npy`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPZ(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    Fuzz.run {
        _ = try NPZ.decode(Fuzz.data(start, count), name: "fuzz.npz", limit: Fuzz.limit)
    }
}
