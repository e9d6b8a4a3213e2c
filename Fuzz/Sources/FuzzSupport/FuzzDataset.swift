// The dataset readers' fuzz test: the input split into an interactions file and an items file
// (at its first "@@" line), read in one format, then the catalog and samples built from what
// was read, as `data prepare` does.
import RecData

public func fuzzDataset(_ format: DataFormat, interactions: String, items: String, _ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let (interactionBytes, itemBytes) = FuzzFiles.split(FuzzFiles.bytes(start, count))
    let dir = FuzzFiles.write([(interactions, interactionBytes), (items, itemBytes)])
    let source = DataSource(format: format, interactions: dir.appendingPathComponent(interactions).path, items: dir.appendingPathComponent(items).path)
    guard let log = try? source.read() else { return 0 }
    var options = BuildOptions()
    options.dropUntitled = true
    _ = try? DatasetBuilder.build(log, options: options)
    return 0
}
