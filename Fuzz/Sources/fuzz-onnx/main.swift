@_spi(Fuzzing) import ConvRT
import Foundation

// libFuzzer's entry for a program with its own main (SwiftPM gives every executable one).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

// The body is `FuzzTargets.onnx` in the library, so the regression tests replay findings through it.
var argc = CommandLine.argc, argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { FuzzTargets.entry($0, $1, FuzzTargets.onnx) })
