// The papers' ready-made sample files (scripts/fixtures/make_sample_file_fixtures.py writes the
// fixtures with the same calls as the reference repositories): every sample, catalog entry and
// count worked out by hand, through a whole `data prepare` and back from the written directory.
import Foundation
import Testing
@testable import RecData

@Suite("Ready-made sample files")
struct SampleFileTests {
    /// Prepares, then reads back what was written: catalog titles and each split's samples.
    func prepare(_ format: DataFormat, _ dir: String, valid: Bool, items: String? = nil, dropUntitled: Bool = false,
                 name: String = #function) throws -> (PreparedDataset, PreparationResult, [SplitName: [StoredSample]]) {
        let base = fixture(dir)
        let splits = SplitFiles(train: base + "/train.csv", valid: valid ? base + "/valid.csv" : nil, test: base + "/test.csv")
        let source = try DataSource.sampleFiles(format, splits: splits, items: items.map { base + "/" + $0 })
        var options = BuildOptions()
        options.dropUntitled = dropUntitled
        let out = scratchDirectory(name).appendingPathComponent("out")
        let result = try DatasetPreparation.run(source: source, options: options, out: out, replace: false)
        let dataset = try DatasetReader.open(out)
        var samples: [SplitName: [StoredSample]] = [:]
        for split in [SplitName.train, .valid, .test] { samples[split] = try DatasetReader.samples(split, of: dataset) }
        return (dataset, result, samples)
    }

    func s(_ user: String, _ history: [Int], _ target: Int, _ t: Double) -> StoredSample {
        StoredSample(user: user, history: history, target: target, timestamp: t)
    }

    @Test func d3FilesAreTakenSampleBySample() throws {
        let (dataset, result, samples) = try prepare(.d3, "d3", valid: true)
        // Quotes of both kinds and a comma inside a title, &#39; unescaped, non-ASCII, and item
        // 5's title equal to item 0's (one catalog entry).
        #expect(dataset.catalog.titles == ["Tumblin' Monkeys Game", "12\" Doll, \"Deluxe\" 'Edition'", "Tom 'n' Jerry",
                                           "Amélie, l'été à Paris", "千と千尋の神隠し"])
        #expect(dataset.catalog.sourceIDs == [["0", "5"], ["1"], ["2"], ["3"], ["4"]])
        #expect(samples[.train] == [s("A1", [0, 1], 2, 1_500_000_000), s("A2", [], 0, 1_500_000_100), s("A1", [0, 1, 2], 3, 1_500_000_200)])
        #expect(samples[.valid] == [s("A2", [0], 4, 1_500_000_300)])
        #expect(samples[.test] == [s("A3", [3, 4], 0, 1_500_000_400), s("A1", [2], 1, 1_500_000_500)])
        #expect(result.stats.duplicateTitlesMerged == 1 && result.stats.catalogItems == 5 && result.stats.users == 3)
        #expect(dataset.manifest.source.splits?.valid != nil)
    }

    @Test func bigrecFilesTakeTheLastIdAsTheTargetAndTitlesFromTheMap() throws {
        // Without --drop-untitled, id 9 (in a history, absent from the map) stops the preparation.
        #expect { try prepare(.bigrec, "bigrec", valid: false, items: "id2name.json") } throws: {
            "\($0)".contains("bigrec/train.csv: line 4: item '9' has no title in") && "\($0)".contains("id2name.json")
        }
        let (dataset, result, samples) = try prepare(.bigrec, "bigrec", valid: false, items: "id2name.json", dropUntitled: true)
        // Entities unescaped; id 4 repeats id 1's title; id 6 (empty title) and 9 (none) dropped.
        #expect(dataset.catalog.titles == ["Heat (1995)", "Tom & Jerry", "Say \"Cheese\"", "Ürümqi Nights"])
        #expect(dataset.catalog.sourceIDs == [["1", "4"], ["2"], ["3"], ["5"]])
        // 9 leaves the third history; the fourth sample's target (6) has no title: dropped.
        #expect(samples[.train] == [s("10", [0, 1], 2, 1_519_603_200), s("11", [], 2, 1_519_603_300), s("10", [0, 1], 3, 1_519_603_400)])
        #expect(samples[.valid] == [])
        #expect(samples[.test] == [s("11", [2], 0, 1_519_689_600), s("12", [3, 0], 1, 1_519_689_700)])
        #expect(result.stats.untitledItemsDropped == 2 && result.stats.duplicateTitlesMerged == 1)
    }

    /// MiniOneRec publishes D3-shaped files without a timestamp column (and with extra ones).
    @Test func d3FilesWithoutTimestampsAreRead() throws {
        let dir = scratchDirectory()
        let header = "user_id,history_item_title,item_title,history_item_id,item_id,history_item_sid,item_sid\n"
        let train = writeText(header + "A1,\"['a, b']\",c,[3],4,['<a_1>'],<a_2>\n", "train.csv", in: dir)
        let test = writeText(header + "A2,['c'],a,[4],3,['<a_2>'],<a_1>\n", "test.csv", in: dir)
        let out = dir.appendingPathComponent("out")
        _ = try DatasetPreparation.run(source: DataSource.sampleFiles(.d3, splits: SplitFiles(train: train, valid: nil, test: test), items: nil),
                                       options: BuildOptions(), out: out, replace: false)
        let dataset = try DatasetReader.open(out)
        #expect(dataset.catalog.titles == ["a, b", "c"])
        #expect(try DatasetReader.samples(.train, of: dataset) == [s("A1", [0], 1, 0)])
        #expect(try DatasetReader.samples(.test, of: dataset) == [s("A2", [1], 0, 0)])
    }

    @Test func anEmptyTitleInTheMapIsNamed() throws {
        let dir = scratchDirectory()
        let train = writeText("user_id,item_ids,timestamp\n1,\"[1, 2]\",1519603200\n", "train.csv", in: dir)
        let test = writeText("user_id,item_ids,timestamp\n1,\"[2, 1]\",1519603300\n", "test.csv", in: dir)
        let map = writeText("{\"1\": \"A\",\n \"2\": \"  \"}", "id2name.json", in: dir)
        let source = try DataSource.sampleFiles(.bigrec, splits: SplitFiles(train: train, valid: nil, test: test), items: map)
        #expect { try DatasetPreparation.run(source: source, options: BuildOptions(), out: dir.appendingPathComponent("out"), replace: false) } throws: {
            "\($0)".contains("id2name.json: line 2: item '2' has an empty title")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
    }

    /// Bad files: an error naming the file, the line and the column, and nothing written.
    @Test(arguments: [
        ("d3", "user_id,history_item_id,item_id,history_item_title,item_title,timestamp\nA,\"[0, 1\",2,\"['a', 'b']\",c,1500000000\n",
         "train.csv: line 2: expected column history_item_id as a Python list (at character 6: the list has no closing ])"),
        ("d3", "user_id,history_item_id,item_id,history_item_title,item_title,timestamp\nA,\"[0, 1]\",2,\"['a']\",c,1500000000\n",
         "train.csv: line 2: expected as many history titles as history ids (2)"),
        ("d3", "user_id,item_ids,timestamp\n10,\"[1, 2]\",1519603200\n", "train.csv: line 1: no column 'history_item_id'"),
        ("d3", "user_id,history_item_id,item_id,history_item_title,item_title,timestamp\nA,[0],2,['a'],c,\n",
         "train.csv: line 2: timestamp \"\" does not parse"),
        ("bigrec", "user_id,history_item_id,item_id,history_item_title,item_title,timestamp\nA,[0],2,['a'],c,1500000000\n",
         "train.csv: line 1: no column 'item_ids'"),
        ("bigrec", "user_id,item_ids,timestamp\n10,[],1519603200\n", "train.csv: line 2: expected column item_ids with at least the target id"),
        ("bigrec", "user_id,item_ids,timestamp\n10,\"[1, 2]\",yesterday\n", "train.csv: line 2: timestamp \"yesterday\" does not parse"),
        ("bigrec", "user_id,item_ids\n10,\"[1, 2]\"\n", "train.csv: line 1: no column 'timestamp'"),
    ])
    func badSampleFilesNameFileLineAndColumn(format: String, train: String, message: String) throws {
        let dir = scratchDirectory("badSampleFiles-\(message.utf8.reduce(0) { $0 &* 31 &+ Int($1) })")
        let trainPath = writeText(train, "train.csv", in: dir)
        let test = writeText(train, "test.csv", in: dir)
        let map = writeText("{\"1\": \"A\", \"2\": \"B\"}", "id2name.json", in: dir)
        let out = dir.appendingPathComponent("out")
        let source = try DataSource.sampleFiles(DataFormat(rawValue: format)!, splits: SplitFiles(train: trainPath, valid: nil, test: test),
                                                items: format == "bigrec" ? map : nil)
        #expect { try DatasetPreparation.run(source: source, options: BuildOptions(), out: out, replace: false) } throws: {
            "\($0)".contains(message)
        }
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }
}
