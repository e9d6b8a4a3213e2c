// Each kind of bad input gives an error that names the file, the line and what was
// expected, and leaves no output directory behind.
import Foundation
import Testing
@testable import RecData

@Suite("Bad input")
struct BadInputTests {
    /// Runs a whole preparation and returns the error's message; checks nothing was written.
    func prepareError(_ dataset: String, items: String? = nil, format: DataFormat = .auto,
                      options: BuildOptions = BuildOptions()) throws -> String {
        let out = scratchDirectory().appendingPathComponent("out")
        var message = ""
        do {
            let source = try DataSource.resolve(dataset: dataset, items: items, format: format)
            _ = try DatasetPreparation.run(source: source, options: options, out: out, replace: false)
            Issue.record("expected an error")
        } catch {
            message = String(describing: error)
        }
        #expect(!FileManager.default.fileExists(atPath: out.path), "no output directory on failure")
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: out.deletingLastPathComponent().path)) ?? []
        #expect(leftovers.isEmpty, "no temporary directory left: \(leftovers)")
        return message
    }

    @Test func missingFile() throws {
        let m = try prepareError("/nonexistent/u.data")
        #expect(m.contains("/nonexistent/u.data") && m.contains("not found"))
    }

    @Test func missingItemsFile() throws {
        let dir = scratchDirectory()
        let data = writeText("1\t1\t5\t100\n", "u.data", in: dir)
        let m = try prepareError(data)
        #expect(m.contains("u.item") && m.contains("--items"))
    }

    @Test func unknownFormat() throws {
        let dir = scratchDirectory()
        let path = writeText("hello\n", "notes.txt", in: dir)
        let m = try prepareError(path)
        #expect(m.contains("notes.txt") && m.contains("--format"))
        let m2 = try prepareError(dir.path)
        #expect(m2.contains("u.data") && m2.contains(".inter"))
    }

    @Test func malformedLineNamesFileAndLine() throws {
        let dir = scratchDirectory()
        let data = writeText("1\t1\t5\t100\n1\t2\t5\n", "u.data", in: dir)
        writeText("1|A (1995)|x\n2|B (1995)|x\n", "u.item", in: dir)
        let m = try prepareError(data)
        #expect(m.contains("u.data: line 2: expected 4 fields"), "\(m)")
    }

    @Test func badTimestampNamesLineAndValue() throws {
        let dir = scratchDirectory()
        let data = writeText("1::1::5::100\n1::2::5::yesterday\n", "ratings.dat", in: dir)
        writeText("1::A (1995)::Drama\n2::B (1995)::Drama\n", "movies.dat", in: dir)
        let m = try prepareError(data)
        #expect(m.contains("ratings.dat: line 2: timestamp \"yesterday\" does not parse"), "\(m)")
    }

    /// Timestamps outside 1970–2100, or fractional where a format stores whole seconds, are
    /// refused with the line (a damaged field, or milliseconds read as seconds).
    @Test(arguments: [
        ("1::2::5::-5", "timestamp \"-5\" is not a time between 1970 and 2100"),
        ("1::2::5::1588687728923", "timestamp \"1588687728923\" is not a time between 1970 and 2100"),
        ("1::2::5::100.5", "timestamp \"100.5\" is not whole seconds"),
        ("1::2::5::2150-01-01", "timestamp \"2150-01-01\" is not a time between 1970 and 2100"),
    ])
    func implausibleTimestampsNameTheLine(row: String, message: String) throws {
        let dir = scratchDirectory("implausibleTimestamps-\(row.utf8.reduce(0) { $0 &* 31 &+ Int($1) })")
        let data = writeText("1::1::5::100\n\(row)\n", "ratings.dat", in: dir)
        writeText("1::A (1995)::Drama\n2::B (1995)::Drama\n", "movies.dat", in: dir)
        let m = try prepareError(data)
        #expect(m.contains("ratings.dat: line 2: \(message)"), "\(m)")
    }

    @Test func emptyTitleNamesItemsFileLine() throws {
        let dir = scratchDirectory()
        let data = writeText("1::1::5::100\n1::2::5::200\n", "ratings.dat", in: dir)
        writeText("1::A (1995)::Drama\n2::   ::Drama\n", "movies.dat", in: dir)
        let m = try prepareError(data)
        #expect(m.contains("movies.dat: line 2: item '2' has an empty title"), "\(m)")
        #expect(m.contains("--drop-untitled"))
    }

    @Test func itemWithoutTitleNamesInteractionLine() throws {
        let dir = scratchDirectory()
        let data = writeText("1::1::5::100\n1::7::5::200\n", "ratings.dat", in: dir)
        writeText("1::A (1995)::Drama\n", "movies.dat", in: dir)
        let m = try prepareError(data)
        #expect(m.contains("ratings.dat: line 2: item '7' has no title"), "\(m)")
    }

    @Test func dropUntitledDropsItemsAndTheirInteractions() throws {
        let dir = scratchDirectory()
        let data = writeText("1::1::5::100\n1::7::5::150\n1::2::5::200\n2::1::5::100\n2::2::5::300\n", "ratings.dat", in: dir)
        writeText("1::A (1995)::Drama\n2::B (1995)::Drama\n", "movies.dat", in: dir)
        var options = BuildOptions()
        options.dropUntitled = true
        let built = try DatasetBuilder.build(DataSource.resolve(dataset: data, items: nil, format: .auto).read(), options: options)
        #expect(built.counts.untitledItemsDropped == 1)
        #expect(built.counts.untitledInteractionsDropped == 1)
        #expect(built.counts.interactions == 4)
    }

    @Test func unknownColumnListsWhatWasFound() throws {
        let dir = scratchDirectory()
        let inter = writeText("user_id:token\titem_id:token\trating:float\nu\ti\t5\n", "x.inter", in: dir)
        writeText("item_id:token\ttitle:token_seq\ni\tA\n", "x.item", in: dir)
        let m = try prepareError(inter)
        #expect(m.contains("x.inter: line 1: no column 'timestamp'") && m.contains("'rating'"), "\(m)")
        let inter2 = writeText("user_id:token\titem_id:token\ttimestamp:float\nu\ti\t5\nu\tj\t6\n", "y.inter", in: dir)
        writeText("item_id:token\tgenre:token\ni\tA\n", "y.item", in: dir)
        let m2 = try prepareError(inter2)
        #expect(m2.contains("y.item: line 1: no column 'title' or 'movie_title'"), "\(m2)")
    }

    @Test func malformedJSONNamesLine() throws {
        let dir = scratchDirectory()
        let reviews = writeText("{\"reviewerID\":\"A\",\"asin\":\"B\",\"unixReviewTime\":1}\n{\"reviewerID\":\"A\",\"asin\":\n", "Toys.json", in: dir)
        writeText("{\"asin\":\"B\",\"title\":\"X\"}\n", "meta_Toys.json", in: dir)
        let m = try prepareError(reviews)
        #expect(m.contains("Toys.json: line 2: expected one JSON object per line"), "\(m)")
        let reviews2 = writeText("{\"reviewerID\":\"A\",\"asin\":\"B\",\"unixReviewTime\":\"soon\"}\n", "Games.json", in: dir)
        writeText("{\"asin\":\"B\",\"title\":\"X\"}\n", "meta_Games.json", in: dir)
        let m2 = try prepareError(reviews2, format: .amazon2018)
        #expect(m2.contains("Games.json: line 1") && m2.contains("unixReviewTime"), "\(m2)")
    }

    @Test func unterminatedQuoteInCSV() throws {
        let dir = scratchDirectory()
        let inter = writeText("user,item,timestamp\nu,\"i,5\n", "i.csv", in: dir)
        let items = writeText("item,title\ni,A\n", "t.csv", in: dir)
        let m = try prepareError(inter, items: items)
        #expect(m.contains("i.csv: line 2: expected a closing double quote"), "\(m)")
    }

    @Test func gzipIsRecognised() throws {
        let dir = scratchDirectory()
        let path = dir.appendingPathComponent("Toys.json").path
        try Data([0x1F, 0x8B, 0x08, 0x00]).write(to: URL(fileURLWithPath: path))
        let m = try prepareError(path, items: path, format: .amazon2018)
        #expect(m.contains("gzip") && m.contains("gunzip"), "\(m)")
    }

    @Test func usersWithOneInteractionYieldNoSamples() throws {
        let dir = scratchDirectory()
        let data = writeText("1::1::5::100\n2::1::5::100\n2::2::5::200\n", "ratings.dat", in: dir)
        writeText("1::A (1995)::Drama\n2::B (1995)::Drama\n", "movies.dat", in: dir)
        let built = try DatasetBuilder.build(DataSource.resolve(dataset: data, items: nil, format: .auto).read(), options: BuildOptions())
        #expect(built.counts.usersWithoutSamples == 1)
        #expect(built.train.count + built.valid.count + built.test.count == 1)
    }

    @Test func tooLittleDataForASplitIsAnError() throws {
        let dir = scratchDirectory()
        let data = writeText("1::1::5::100\n1::2::5::200\n", "ratings.dat", in: dir)
        writeText("1::A (1995)::Drama\n2::B (1995)::Drama\n", "movies.dat", in: dir)
        let m = try prepareError(data)
        #expect(m.contains("split is empty"), "\(m)")
    }

    @Test func existingOutputIsNotOverwrittenWithoutForce() throws {
        let out = scratchDirectory()
        writeText("keep me", "mine.txt", in: out)
        let source = try DataSource.resolve(dataset: fixture("ml-1m"), items: nil, format: .auto)
        #expect(throws: (any Error).self) {
            try DatasetPreparation.run(source: source, options: BuildOptions(), out: out, replace: false)
        }
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("mine.txt").path))
        // Nor with --force: the directory is not one llmrec wrote (no dataset.json).
        #expect { try DatasetPreparation.run(source: source, options: BuildOptions(), out: out, replace: true) } throws: {
            "\($0)".contains("no dataset.json")
        }
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("mine.txt").path))
        // A dataset directory is replaced with --force.
        let dataset = out.appendingPathComponent("ds")
        _ = try DatasetPreparation.run(source: source, options: BuildOptions(), out: dataset, replace: false)
        _ = try DatasetPreparation.run(source: source, options: BuildOptions(), out: dataset, replace: true)
        #expect(FileManager.default.fileExists(atPath: dataset.appendingPathComponent("catalog.jsonl").path))
    }
}
