// The movielens1m reader: interactions and items files (the input split at its first "@@" line), then
// building the catalog and samples from what was read, as `data prepare` does.
import FuzzSupport
import RecData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let (interactions, items) = FuzzFiles.split(FuzzFiles.bytes(start, count))
    let dir = FuzzFiles.write([("ratings.dat", interactions), ("movies.dat", items)])
    let source = DataSource(format: .movielens1m, interactions: dir.appendingPathComponent("ratings.dat").path, items: dir.appendingPathComponent("movies.dat").path)
    guard let log = try? source.read() else { return 0 }
    var options = BuildOptions()
    options.dropUntitled = true
    _ = try? DatasetBuilder.build(log, options: options)
    return 0
}

@_cdecl("FuzzMovieLens1M_main")
public func FuzzMovieLens1M_main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzz)
}
