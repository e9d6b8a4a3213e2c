// A prepared directory reads back to what was built, and its files are what users can parse.
import Foundation
import Support
import Testing
@testable import RecData

@Suite("Dataset directory")
struct DatasetDirectoryTests {
    @Test func writesAndReadsBack() throws {
        let out = scratchDirectory().appendingPathComponent("ds")
        let source = try DataSource.resolve(dataset: fixture("csv/interactions.csv"), items: fixture("csv/items.csv"), format: .auto)
        let result = try DatasetPreparation.run(source: source, options: BuildOptions(), out: out, replace: false)
        let ds = try DatasetReader.open(out)
        #expect(ds.catalog == result.dataset.catalog)
        #expect(ds.manifest == result.manifest)
        #expect(ds.stats.users == 4 && ds.stats.catalogItems == 4 && ds.stats.duplicateTitlesMerged == 1)
        for (split, built) in [(SplitName.train, result.dataset.train), (.valid, result.dataset.valid), (.test, result.dataset.test)] {
            let stored = try DatasetReader.samples(split, of: ds)
            #expect(stored.map(\.target) == built.map { Int($0.target) })
            #expect(stored.map(\.history) == built.map { $0.history.map(Int.init) })
            #expect(stored.map(\.user) == built.map { result.dataset.userNames[Int($0.user)] })
            #expect(stored.map(\.timestamp) == built.map(\.timestamp))
        }
        // The files are plain JSON lines: one line per catalog entry, JSONSerialization parses each.
        let catalogText = try String(contentsOf: out.appendingPathComponent("catalog.jsonl"), encoding: .utf8)
        let lines = catalogText.split(separator: "\n")
        #expect(lines.count == 4)
        let first = try JSONSerialization.jsonObject(with: Data(lines[2].utf8)) as? [String: Any]
        #expect(first?["title"] as? String == "Misérables, Les (1995)")
        // The rendered prompt of the test sample uses catalog titles.
        let test = try DatasetReader.samples(.test, of: ds)
        #expect(ds.prompt(for: test[0]).contains("before: \"Misérables, Les (1995)\", \"Heat (1995)\", \"Toy Story (1995)\"\n"))
        #expect(ds.response(for: test[0]) == "\"Jumanji (1995)\"")
    }

    /// The quick target counter agrees with full decoding, and falls back to JSON for lines
    /// written differently (key order, spaces); a target outside the catalog is refused.
    @Test func targetCountsEqualDecodedSamples() throws {
        let out = scratchDirectory().appendingPathComponent("ds")
        let source = try DataSource.resolve(dataset: fixture("csv/interactions.csv"), items: fixture("csv/items.csv"), format: .auto)
        _ = try DatasetPreparation.run(source: source, options: BuildOptions(), out: out, replace: false)
        let ds = try DatasetReader.open(out)
        for split in [SplitName.train, .valid, .test] {
            var want = [Int](repeating: 0, count: ds.catalog.count)
            for s in try DatasetReader.samples(split, of: ds) { want[s.target] += 1 }
            #expect(try DatasetReader.targetCounts(split, of: ds) == want)
        }
        let train = out.appendingPathComponent("train.jsonl")
        try "{\"target\" : 2, \"user\": \"u\", \"history\": [1], \"timestamp\": 1}\n{\"history\":[0],\"user\":\"v\",\"timestamp\":2,\"target\":1}\n{\"user\":\"w\",\"history\":[0],\"targ\\u0065t\":3,\"timestamp\":3}\n"
            .write(to: train, atomically: true, encoding: .utf8)
        #expect(try DatasetReader.targetCounts(.train, of: ds) == [0, 1, 1, 1])
        try "{\"user\":\"u\",\"history\":[1],\"target\":9,\"timestamp\":1}\n".write(to: train, atomically: true, encoding: .utf8)
        #expect { try DatasetReader.targetCounts(.train, of: ds) } throws: { "\($0)".contains("train.jsonl") && "\($0)".contains("line 1") }
    }

    @Test func responseTokenLengthsWhenACounterIsGiven() throws {
        let out = scratchDirectory().appendingPathComponent("ds")
        let source = try DataSource.resolve(dataset: fixture("ml-1m"), items: nil, format: .auto)
        // A stand-in tokenizer: one token per character, plus EOS.
        let counter: DatasetPreparation.TokenCounter = ("characters", { $0.count + 1 })
        let result = try DatasetPreparation.run(source: source, options: BuildOptions(), tokenCounter: counter, out: out, replace: false)
        // Responses: "Heat (1995)" 13 + 1, "Toy Story (1995)" 18 + 1, "Misérables, Les (1995)" 24 + 1, "Jumanji (1995)" 16 + 1.
        #expect(result.stats.responseTokens == DatasetStats.TokenLengths(mean: (14 + 19 + 25 + 17) / 4, max: 25, tokenizer: "characters"))
        #expect(try DatasetReader.open(out).stats.responseTokens == result.stats.responseTokens)
    }

    @Test func jsonEscapingRoundTrips() throws {
        var w = JSONLinesWriter()
        let tricky = "quote \" backslash \\ tab \t newline \n bell \u{07} é 🎬"
        w.string(tricky)
        w.raw(" ")
        w.int(-1_234_567)
        w.raw(" ")
        w.number(1.5)
        let text = String(decoding: w.bytes, as: UTF8.self)
        let parts = "[" + text.replacingOccurrences(of: "\" -1234567 1.5", with: "\", -1234567, 1.5") + "]"
        let decoded = try JSONSerialization.jsonObject(with: Data(parts.utf8)) as! [Any]
        #expect(decoded[0] as? String == tricky)
        #expect((decoded[1] as? NSNumber)?.intValue == -1_234_567)
        #expect((decoded[2] as? NSNumber)?.doubleValue == 1.5)
    }

    @Test func openingSomethingElseSaysHowToMakeADataset() {
        let dir = scratchDirectory()
        #expect {
            try DatasetReader.open(dir)
        } throws: { error in
            String(describing: error).contains("llmrec data prepare")
        }
    }

    @Test func aCorruptSampleLineIsNamed() throws {
        let out = scratchDirectory().appendingPathComponent("ds")
        let source = try DataSource.resolve(dataset: fixture("ml-1m"), items: nil, format: .auto)
        _ = try DatasetPreparation.run(source: source, options: BuildOptions(), out: out, replace: false)
        let test = out.appendingPathComponent("test.jsonl")
        try Data("{\"user\":\"1\",\"history\":[0],\"target\":99,\"timestamp\":1}\n".utf8).write(to: test)
        let ds = try DatasetReader.open(out)
        #expect {
            try DatasetReader.samples(.test, of: ds)
        } throws: { error in
            String(describing: error).contains("test.jsonl: line 1: expected item ids in 0..<4")
        }
    }

    /// --force replaces only a dataset directory llmrec wrote: never the working directory, an
    /// input's directory or one above it, or a directory without dataset.json; nothing is lost.
    @Test func forceNeverDeletesWhatItMustNot() throws {
        let root = scratchDirectory()
        let inputs = root.appendingPathComponent("inputs")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        for name in ["interactions.csv", "items.csv"] {
            try FileManager.default.copyItem(atPath: fixture("csv/\(name)"), toPath: inputs.appendingPathComponent(name).path)
        }
        let source = try DataSource.resolve(dataset: inputs.appendingPathComponent("interactions.csv").path,
                                            items: inputs.appendingPathComponent("items.csv").path, format: .auto)
        let mine = root.appendingPathComponent("notes")
        try FileManager.default.createDirectory(at: mine, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: mine.appendingPathComponent("todo.txt"))
        for (out, reason) in [(inputs, "an input"), (root, "an input"), (mine, "no dataset.json")] {
            #expect { try DatasetPreparation.run(source: source, options: BuildOptions(), out: out, replace: true) } throws: { error in
                "\(error)".contains("refusing") && "\(error)".contains(reason)
            }
        }
        // The working directory (also what an empty --out means) is checked by the rule alone, so
        // that a regression here could never replace the directory the tests run in.
        let rule = ReplaceRule(marker: DatasetFile.manifest)
        for out in [URL(fileURLWithPath: FileManager.default.currentDirectoryPath), URL(fileURLWithPath: ""),
                    URL(fileURLWithPath: FileManager.default.currentDirectoryPath).deletingLastPathComponent()] {
            #expect { try rule.check(out) } throws: { "\($0)".contains("working directory") }
        }
        #expect(FileManager.default.fileExists(atPath: inputs.appendingPathComponent("interactions.csv").path))
        #expect(try String(contentsOf: mine.appendingPathComponent("todo.txt"), encoding: .utf8) == "keep me")
        // A dataset directory is replaced, and an empty one is filled.
        let ds = root.appendingPathComponent("ds")
        _ = try DatasetPreparation.run(source: source, options: BuildOptions(), out: ds, replace: false)
        _ = try DatasetPreparation.run(source: source, options: BuildOptions(), out: ds, replace: true)
        let empty = root.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        _ = try DatasetPreparation.run(source: source, options: BuildOptions(), out: empty, replace: true)
        #expect(try DatasetReader.open(empty).catalog.count == 4)
    }

    /// A writer killed with -9 leaves its staging directory; the next write to the same output
    /// removes it (a live writer's is kept).
    @Test func staleStagingDirectoriesAreRemoved() throws {
        let root = scratchDirectory()
        let stale = root.appendingPathComponent(".ds.tmp-2147483646-7"), live = root.appendingPathComponent(".ds.tmp-\(getpid())-7")
        for dir in [stale, live] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        let source = try DataSource.resolve(dataset: fixture("csv/interactions.csv"), items: fixture("csv/items.csv"), format: .auto)
        _ = try DatasetPreparation.run(source: source, options: BuildOptions(), out: root.appendingPathComponent("ds"), replace: false)
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(FileManager.default.fileExists(atPath: live.path))
    }
}
