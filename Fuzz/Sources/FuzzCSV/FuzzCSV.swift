// The csv reader (see fuzzDataset).
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzDataset(.csv, interactions: "interactions.csv", items: "items.csv", start, count)
}

@_cdecl("FuzzCSV_main")
public func FuzzCSV_main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzz)
}
