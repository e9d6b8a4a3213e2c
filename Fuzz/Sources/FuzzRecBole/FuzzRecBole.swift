// The recbole reader: interactions and items files (the input split at its first "@@" line), then
// building the catalog and samples from what was read, as `data prepare` does.
import FuzzSupport
import RecData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let (interactions, items) = FuzzFiles.split(FuzzFiles.bytes(start, count))
    let dir = FuzzFiles.write([("data.inter", interactions), ("data.item", items)])
    let source = DataSource(format: .recbole, interactions: dir.appendingPathComponent("data.inter").path, items: dir.appendingPathComponent("data.item").path)
    guard let log = try? source.read() else { return 0 }
    var options = BuildOptions()
    options.dropUntitled = true
    _ = try? DatasetBuilder.build(log, options: options)
    return 0
}

@_cdecl("FuzzRecBole_main")
public func FuzzRecBole_main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzz)
}
