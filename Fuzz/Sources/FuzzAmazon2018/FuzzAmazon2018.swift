// The amazon2018 reader (see fuzzDataset).
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzDataset(.amazon2018, interactions: "Toys_5.json", items: "meta_Toys.json", start, count)
}

@_cdecl("FuzzAmazon2018_main")
public func FuzzAmazon2018_main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzz)
}
