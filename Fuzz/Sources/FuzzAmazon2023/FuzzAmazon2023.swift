// The amazon2023 reader (see fuzzDataset).
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzDataset(.amazon2023, interactions: "Toys.jsonl", items: "meta_Toys.jsonl", start, count)
}

@_cdecl("FuzzAmazon2023_main")
public func FuzzAmazon2023_main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzz)
}
