// The d3 sample-file reader (see fuzzSampleFiles).
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzSampleFiles(.d3, start, count)
}

@_cdecl("FuzzD3SampleFiles_main")
public func FuzzD3SampleFiles_main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzz)
}
