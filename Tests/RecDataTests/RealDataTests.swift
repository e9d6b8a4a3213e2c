// `data prepare` on the real MovieLens files of the embedded default. CI fetches them
// (scripts/fetch-assets.sh); on an offline machine these tests skip and say so.
import Foundation
import Support
import Testing
@testable import RecData

private let fetchHint = "needs the embedded datasets; run scripts/fetch-assets.sh"

@Suite("Real MovieLens data")
struct RealDataTests {
    /// Values from scripts/fixtures/reference_samples.py, an independent Python reading of the same files.
    struct Reference: Decodable {
        struct S: Decodable { let user: String; let history: [String]; let target: String; let timestamp: Double }
        let users: Int, items: Int, distinct_titles: Int, interactions: Int, train: Int, valid: Int, test: Int
        let train_head: [S], valid_head: [S], test_head: [S], test_tail: [S]
    }

    @Test(.enabled(if: Assets.ml100k.isPresent, Comment(rawValue: fetchHint)))
    func movieLens100KMatchesThePythonReference() throws {
        let reference = try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: URL(fileURLWithPath: fixture("ml-100k-reference.json"))))
        let source = try DataSource.resolve(dataset: "ml-100k", items: nil, format: .auto)
        let log = try source.read()
        let data = try DatasetBuilder.build(log, options: BuildOptions())
        #expect(data.counts.users == 943 && reference.users == 943)
        #expect(data.counts.items == 1682 && reference.items == 1682)
        #expect(data.counts.catalogItems == reference.distinct_titles)
        #expect(data.counts.duplicateTitlesMerged == 1682 - reference.distinct_titles)
        #expect(data.counts.interactions == reference.interactions)
        #expect([data.train.count, data.valid.count, data.test.count] as [Int] == [reference.train, reference.valid, reference.test])
        func check(_ ours: ArraySlice<Sample>, _ theirs: [Reference.S]) {
            #expect(ours.count == theirs.count)
            for (o, t) in zip(ours, theirs) {
                #expect(log.users.names[Int(o.user)] == t.user)
                #expect(o.history.map { data.catalog.titles[Int($0)] } == t.history)
                #expect(data.catalog.titles[Int(o.target)] == t.target)
                #expect(o.timestamp == t.timestamp)
            }
        }
        check(data.train.prefix(3), reference.train_head)
        check(data.valid.prefix(3), reference.valid_head)
        check(data.test.prefix(3), reference.test_head)
        check(data.test.suffix(3), reference.test_tail)
        #expect(data.catalog.titles.contains("Misérables, Les (1995)"))
    }

    @Test(.enabled(if: Assets.ml1m.isPresent, Comment(rawValue: fetchHint)))
    func movieLens1MCountsAndSplit() throws {
        let out = scratchDirectory().appendingPathComponent("ml-1m")
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let source = try DataSource.resolve(dataset: "ml-1m", items: nil, format: .auto)
        let result = try DatasetPreparation.run(source: source, options: BuildOptions(), out: out, replace: false)
        let s = result.stats
        #expect(s.users == 6040)
        #expect(s.items == 3706)
        #expect(s.interactions == 1_000_209)
        // Every ML-1M user has at least 20 ratings, so samples = interactions − users.
        let n = 1_000_209 - 6040
        #expect(s.samples.train == n * 8 / 10 && s.samples.valid == n * 9 / 10 - n * 8 / 10 && s.samples.test == n - n * 9 / 10)
        let d = result.dataset
        let lastTrain = d.train.map(\.timestamp).max()!
        #expect(d.valid.allSatisfy { $0.timestamp >= lastTrain } && d.test.allSatisfy { $0.timestamp >= lastTrain })
        #expect(d.catalog.titles.contains("Misérables, Les (1995)"))
        for split in SplitName.allCases {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(DatasetFile.split(split)).path))
        }
    }
}
