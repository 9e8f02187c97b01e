@_spi(Fuzzing) import ConvRT

/// libFuzzer entry: the body is `FuzzTargets.dsl` in the library, so regression tests replay findings through it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    FuzzTargets.entry(start, count, FuzzTargets.dsl)
}
