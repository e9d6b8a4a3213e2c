// The movielens100k reader (see fuzzDataset).
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzDataset(.movielens100k, interactions: "u.data", items: "u.item", start, count)
}

@_cdecl("FuzzMovieLens100K_main")
public func FuzzMovieLens100K_main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzz)
}
