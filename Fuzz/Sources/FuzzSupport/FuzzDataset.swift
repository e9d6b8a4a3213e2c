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

/// The sample-file readers' fuzz test (d3: training and test CSVs; bigrec: a CSV used as both
/// splits and the id → title JSON), through a whole preparation into the scratch directory.
public func fuzzSampleFiles(_ format: DataFormat, _ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let (first, second) = FuzzFiles.split(FuzzFiles.bytes(start, count))
    let names = format == .d3 ? ("train.csv", "test.csv") : ("train.csv", "id2name.json")
    let dir = FuzzFiles.write([(names.0, first), (names.1, second)])
    let train = dir.appendingPathComponent("train.csv").path, other = dir.appendingPathComponent(names.1).path
    guard let source = try? DataSource.sampleFiles(format, splits: SplitFiles(train: train, valid: nil, test: format == .d3 ? other : train),
                                                   items: format == .bigrec ? other : nil)
    else { return 0 }
    var options = BuildOptions()
    options.dropUntitled = true
    _ = try? DatasetPreparation.run(source: source, options: options, out: dir.appendingPathComponent("out"), replace: true)
    return 0
}
