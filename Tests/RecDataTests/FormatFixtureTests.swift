// Every format reader, on the same universe written in each real format
// (scripts/fixtures/make_data_fixtures.py), must give the same catalog and samples.
//
// Worked out by hand from the fixture:
//   file order of interactions: (2,4,250) (1,1,100) (2,2,150) (1,3,300) (2,1,250) (3,3,120)
//                               (1,2,200) (4,5,50) (2,5,500) (1,5,400) (3,1,130)
//   items 3 and 4 are both "Heat (1995)": one catalog entry; item 6 has no interaction.
//   catalog in order of first appearance: Heat, Toy Story, Misérables, Jumanji.
//   user 1: Toy@100 Mis@200 Heat@300 Jum@400        → 3 samples
//   user 2: Mis@150 Heat@250 Toy@250 (tie: file order) Jum@500 → 3 samples
//   user 3: Heat@120 Toy@130                        → 1 sample;  user 4: one interaction → none
//   time split (n = 7, train = int(7·0.8) = 5, valid = int(7·0.9) − 5 = 1):
//     by target time 130 (u3) 200 (u1) 250 (u2) 250 (u2) 300 (u1) | 400 (u1) | 500 (u2)
import Foundation
import Testing
@testable import RecData

private let heat = "Heat (1995)", toy = "Toy Story (1995)", mis = "Misérables, Les (1995)", jum = "Jumanji (1995)"

struct FormatCase: CustomTestStringConvertible, Sendable {
    var name: String
    var dataset: String
    var items: String?
    var format: DataFormat
    var expectedFormat: DataFormat
    var testDescription: String { name }
}

let formatCases: [FormatCase] = [
    FormatCase(name: "MovieLens 100K (dir)", dataset: fixture("ml-100k"), format: .auto, expectedFormat: .movielens100k),
    FormatCase(name: "MovieLens 100K (file)", dataset: fixture("ml-100k/u.data"), format: .auto, expectedFormat: .movielens100k),
    FormatCase(name: "MovieLens 1M", dataset: fixture("ml-1m"), format: .auto, expectedFormat: .movielens1m),
    FormatCase(name: "RecBole", dataset: fixture("recbole/toy.inter"), format: .auto, expectedFormat: .recbole),
    FormatCase(name: "Amazon 2018", dataset: fixture("amazon-2018/Toys_5.json"), format: .auto, expectedFormat: .amazon2018),
    FormatCase(name: "Amazon 2023", dataset: fixture("amazon-2023/Toys.jsonl"), format: .auto, expectedFormat: .amazon2023),
    FormatCase(name: "CSV with header", dataset: fixture("csv/interactions.csv"), items: fixture("csv/items.csv"),
               format: .auto, expectedFormat: .csv),
    FormatCase(name: "TSV without header, ISO dates", dataset: fixture("tsv/interactions.tsv"), items: fixture("tsv/items.tsv"),
               format: .csv, expectedFormat: .csv),
]

@Suite("Each format's loader on the fixture")
struct FormatFixtureTests {
    func build(_ c: FormatCase, split: SplitMethod = .time) throws -> (DataSource, BuiltDataset) {
        let source = try DataSource.resolve(dataset: c.dataset, items: c.items, format: c.format)
        var options = BuildOptions()
        options.split = split
        return (source, try DatasetBuilder.build(source.read(), options: options))
    }

    @Test(arguments: formatCases)
    func catalogAndCounts(_ c: FormatCase) throws {
        let (source, data) = try build(c)
        #expect(source.format == c.expectedFormat)
        #expect(data.catalog.titles == [heat, toy, mis, jum])
        #expect(data.catalog.sourceIDs[0].count == 2, "both Heat items merge into one entry")
        #expect(data.counts.users == 4)
        #expect(data.counts.items == 5)
        #expect(data.counts.catalogItems == 4)
        #expect(data.counts.duplicateTitlesMerged == 1)
        #expect(data.counts.interactions == 11)
        #expect(data.counts.usersWithoutSamples == 1)
    }

    @Test(arguments: formatCases)
    func timeSplit(_ c: FormatCase) throws {
        let (_, data) = try build(c)
        #expect(titled(data.train, data.catalog) == [
            TitledSample(history: [heat], target: toy),            // user 3 @130
            TitledSample(history: [toy], target: mis),             // user 1 @200
            TitledSample(history: [mis], target: heat),            // user 2 @250
            TitledSample(history: [mis, heat], target: toy),       // user 2 @250 (tie, file order)
            TitledSample(history: [toy, mis], target: heat),       // user 1 @300
        ])
        #expect(titled(data.valid, data.catalog) == [TitledSample(history: [toy, mis, heat], target: jum)])
        #expect(titled(data.test, data.catalog) == [TitledSample(history: [mis, heat, toy], target: jum)])
        #expect(data.test.map(\.timestamp) == [500])
    }

    @Test(arguments: formatCases)
    func leaveOneOutSplit(_ c: FormatCase) throws {
        let (_, data) = try build(c, split: .loo)
        // Users in order of first appearance: 2, 1, 3.
        #expect(titled(data.test, data.catalog) == [
            TitledSample(history: [mis, heat, toy], target: jum),
            TitledSample(history: [toy, mis, heat], target: jum),
            TitledSample(history: [heat], target: toy),
        ])
        #expect(titled(data.valid, data.catalog) == [
            TitledSample(history: [mis, heat], target: toy),
            TitledSample(history: [toy, mis], target: heat),
        ])
        #expect(titled(data.train, data.catalog) == [
            TitledSample(history: [mis], target: heat),
            TitledSample(history: [toy], target: mis),
        ])
    }

    @Test func latin1MovieLensTitlesComeOutAsUTF8() throws {
        let log = try DataSource.resolve(dataset: fixture("ml-1m"), items: nil, format: .auto).read()
        #expect(log.rawTitle.contains("Misérables, Les (1995)"))
        let raw = try Data(contentsOf: URL(fileURLWithPath: fixture("ml-1m/movies.dat")))
        #expect(raw.contains(0xE9), "the fixture really is Latin-1 (é is the single byte 0xE9)")
    }

    @Test func amazonTitlesAreUnescapedAndCollapsed() throws {
        let log = try DataSource.resolve(dataset: fixture("amazon-2018/Toys_5.json"), items: nil, format: .auto).read()
        #expect(log.rawTitle.contains("Mis&eacute;rables, Les (1995)"), "the reader keeps the raw title")
        #expect(log.titlesAreHTML)
    }

    @Test func amazon2023TimestampsAreMilliseconds() throws {
        let log = try DataSource.resolve(dataset: fixture("amazon-2023/Toys.jsonl"), items: nil, format: .auto).read()
        #expect(log.timestamp.first == 250)
    }
}
