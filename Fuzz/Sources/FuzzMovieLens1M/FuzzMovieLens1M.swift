// The movielens1m reader (see fuzzDataset).
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzDataset(.movielens1m, interactions: "ratings.dat", items: "movies.dat", start, count)
}

@_cdecl("FuzzMovieLens1M_main")
public func FuzzMovieLens1M_main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzz)
}
