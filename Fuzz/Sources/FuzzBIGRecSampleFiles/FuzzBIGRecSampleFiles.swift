// The bigrec sample-file reader (see fuzzSampleFiles).
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzSampleFiles(.bigrec, start, count)
}

@_cdecl("FuzzBIGRecSampleFiles_main")
public func FuzzBIGRecSampleFiles_main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzz)
}
