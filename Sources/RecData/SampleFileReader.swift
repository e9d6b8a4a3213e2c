// Ready-made sample files, as the reference repositories of the IGD and MSL papers publish them,
// taken as they are (no re-splitting, no re-sampling, histories as given):
//
//   d3      D3's and LLM4Rec-IGD's process.py: one CSV row per sample with the columns
//           user_id, history_item_id ([ids] as Python writes a list), item_id (the target),
//           history_item_title (['titles']), item_title, and timestamp when there is one
//           (others are ignored; a leading unnamed index column, as pandas adds, is fine).
//   bigrec  BIGRec's and MSL's CSVs: user_id, item_ids ([ids], the last one is the target),
//           timestamp; titles from a JSON object mapping each id (as a string) to its title,
//           given as the items file (MSL's id2name4Rec.json).
//
// One file per split: train and test, valid when there is one. Titles are cleaned (HTML
// entities included) and duplicates merged exactly as for interaction logs; an item without a
// title stops the preparation naming it, or with --drop-untitled leaves the catalog: samples
// whose target it is are dropped and it is removed from histories.
import Foundation
import Support

/// The split files of a dataset published as samples.
public struct SplitFiles: Sendable, Codable, Equatable {
    public var train: String
    public var valid: String?
    public var test: String

    public init(train: String, valid: String?, test: String) {
        self.train = train
        self.valid = valid
        self.test = test
    }
}

enum SampleFileReader {
    /// One row as the file gives it: source ids, and titles where the row carries them.
    struct Row {
        var user: String
        var history: [String]
        var target: String
        var timestamp: Double
        var historyTitles: [String]?
        var targetTitle: String?
        var line: Int
    }

    static func read(_ format: DataFormat, splits: SplitFiles, titles titleFile: String?, options: BuildOptions) throws -> BuiltDataset {
        let files: [(SplitName, String?)] = [(.train, splits.train), (.valid, splits.valid), (.test, splits.test)]
        var rows: [SplitName: [Row]] = [:]
        for (split, path) in files {
            guard let path else { continue }
            rows[split] = format == .d3 ? try readD3(path) : try readBIGRec(path)
        }
        // Raw titles: from the title map, then from the rows (the first title given wins).
        var rawTitle: [String: (title: String, file: String, line: Int)] = [:]
        if let titleFile { rawTitle = try readTitleMap(titleFile) }
        for (split, path) in files {
            guard let path else { continue }
            for row in rows[split] ?? [] {
                for (id, title) in zip(row.history, row.historyTitles ?? []) where rawTitle[id] == nil { rawTitle[id] = (title, path, row.line) }
                if let title = row.targetTitle, rawTitle[row.target] == nil { rawTitle[row.target] = (title, path, row.line) }
            }
        }

        var counts = BuildCounts()
        var catalog = CatalogAccumulator()
        var catalogOf: [String: Int32] = [:]
        var dropped = Set<String>()
        var users: [String: Int32] = [:], userNames: [String] = []
        var built: [SplitName: [Sample]] = [:]
        for (split, path) in files {
            guard let path else { continue }
            var samples: [Sample] = []
            for row in rows[split] ?? [] {
                func entry(_ id: String) throws -> Int32? {
                    if let c = catalogOf[id] { return c }
                    if dropped.contains(id) { return nil }
                    let title = rawTitle[id].map { TitleCleaning.clean($0.title, unescapeHTML: true) } ?? ""
                    guard !title.isEmpty else {
                        guard options.dropUntitled else {
                            if let raw = rawTitle[id] { throw DataError.emptyTitle(file: raw.file, line: raw.line, item: id) }
                            throw DataError.untitledItem(file: path, line: row.line, item: id, itemsFile: titleFile ?? path)
                        }
                        dropped.insert(id)
                        counts.untitledItemsDropped += 1
                        return nil
                    }
                    let c = catalog.add(id: id, title: title)
                    catalogOf[id] = c
                    return c
                }
                let history = try row.history.compactMap(entry)
                guard let target = try entry(row.target) else {
                    counts.untitledInteractionsDropped += 1
                    continue
                }
                counts.untitledInteractionsDropped += row.history.count - history.count
                let user = users[row.user] ?? {
                    let u = Int32(userNames.count)
                    users[row.user] = u
                    userNames.append(row.user)
                    return u
                }()
                samples.append(Sample(user: user, history: history, target: target, timestamp: row.timestamp))
            }
            built[split] = samples
        }
        let all = built.values.joined()
        counts.rawUsers = users.count
        counts.rawItems = Set(files.flatMap { f in (rows[f.0] ?? []).flatMap { $0.history + [$0.target] } }).count
        counts.rawInteractions = rows.values.joined().count
        counts.duplicateTitlesMerged = catalog.merged
        counts.catalogItems = catalog.titles.count
        counts.users = users.count
        counts.items = catalogOf.count
        counts.interactions = all.count
        counts.trainBeforeSubsampling = built[.train]?.count ?? 0
        counts.validBeforeSubsampling = built[.valid]?.count ?? 0
        counts.testBeforeSubsampling = built[.test]?.count ?? 0
        return BuiltDataset(catalog: catalog.catalog, userNames: userNames, train: built[.train] ?? [], valid: built[.valid] ?? [],
                            test: built[.test] ?? [], counts: counts)
    }

    /// A CSV with a header: each row's fields by column name, with its line number.
    /// `field` gives a column's value; `has` tells whether the file has an optional column.
    static func readCSV(_ path: String, columns wanted: [String], shape: String,
                        _ row: (_ field: (String) -> String, _ has: (String) -> Bool, _ line: Int) throws -> Void) throws {
        let file = try TextFile(path: path, encoding: .utf8)
        var index: [String: Int]?
        var any = false
        try file.forEachLine(progress: true) { number, line in
            if line.isEmpty { return true }
            let fields = try DelimitedReader.splitQuoted(line, separator: UInt8(ascii: ","), file: file, line: number)
            guard let columns = index else {
                var found: [String: Int] = [:]
                for (i, name) in fields.enumerated() where found[name] == nil { found[name] = i }
                if let missing = wanted.first(where: { found[$0] == nil }) {
                    throw DataError.missingColumn(file: path, column: missing, found: fields.map { String($0.prefix(40)) })
                }
                index = found
                return true
            }
            guard fields.count >= columns.values.max()! + 1 else {
                throw DataError.malformedLine(file: path, line: number, expected: "\(columns.count) comma-separated fields, as in the header of \(shape)",
                                              found: file.string(line))
            }
            any = true
            try row({ columns[$0].map { fields[$0] } ?? "" }, { columns[$0] != nil }, number)
            return true
        }
        if !any { throw DataError.emptyFile(path: path) }
    }

    /// `text` (field `column` of line `line`) as a Python list, or the error naming all three.
    static func list<T>(_ text: String, _ column: String, _ path: String, _ line: Int,
                        _ parse: (String) throws(PythonLiteralError) -> T) throws -> T {
        do {
            return try parse(text)
        } catch {
            throw DataError.malformedLine(file: path, line: line, expected: "column \(column) as a Python list (\(error))", found: text)
        }
    }

    static func readD3(_ path: String) throws -> [Row] {
        var rows: [Row] = []
        // timestamp is optional: MiniOneRec's files in this shape leave it out (0 then).
        let columns = ["user_id", "history_item_id", "item_id", "history_item_title", "item_title"]
        try readCSV(path, columns: columns, shape: "D3 / LLM4Rec-IGD samples") { field, has, line in
            let ids = try list(field("history_item_id"), "history_item_id", path, line, PythonLiteral.integers).map(String.init)
            let titles = try list(field("history_item_title"), "history_item_title", path, line, PythonLiteral.strings)
            guard ids.count == titles.count else {
                throw DataError.malformedLine(file: path, line: line, expected: "as many history titles as history ids (\(ids.count))",
                                              found: field("history_item_title"))
            }
            guard let target = Int(field("item_id").trimmingCharacters(in: .whitespaces)) else {
                throw DataError.malformedLine(file: path, line: line, expected: "column item_id as a whole number", found: field("item_id"))
            }
            rows.append(Row(user: field("user_id"), history: ids, target: String(target),
                            timestamp: has("timestamp") ? try readTimestamp(field("timestamp"), wholeSeconds: false, file: path, line: line) : 0,
                            historyTitles: titles, targetTitle: field("item_title"), line: line))
        }
        return rows
    }

    static func readBIGRec(_ path: String) throws -> [Row] {
        var rows: [Row] = []
        try readCSV(path, columns: ["user_id", "item_ids", "timestamp"], shape: "BIGRec / MSL samples") { field, _, line in
            let ids = try list(field("item_ids"), "item_ids", path, line, PythonLiteral.integers).map(String.init)
            guard let target = ids.last else {
                throw DataError.malformedLine(file: path, line: line, expected: "column item_ids with at least the target id", found: field("item_ids"))
            }
            rows.append(Row(user: field("user_id"), history: Array(ids.dropLast()), target: target,
                            timestamp: try readTimestamp(field("timestamp"), wholeSeconds: false, file: path, line: line),
                            historyTitles: nil, targetTitle: nil, line: line))
        }
        return rows
    }

    /// A JSON object mapping item ids (as strings) to titles: MSL's id2name4Rec.json.
    static func readTitleMap(_ path: String) throws -> [String: (title: String, file: String, line: Int)] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.fileMissing(path: path, hint: "Give the title map (a JSON object from item id to title, such as MSL's id2name4Rec.json) with --items.")
        }
        guard let text = String(data: data, encoding: .utf8), let root = try? JSONDocument.parse(text), case .object(let members) = root.value else {
            throw DataError.malformedLine(file: path, line: 1, expected: "a JSON object from item id to title", found: String(decoding: data.prefix(80), as: UTF8.self))
        }
        var map: [String: (title: String, file: String, line: Int)] = [:]
        for member in members {
            guard case .string(let title) = member.node.value else {
                throw DataError.malformedLine(file: path, line: member.line, expected: "item \(quoted(member.key))'s title as a string",
                                              found: "\(member.node.value)")
            }
            map[member.key.trimmingCharacters(in: .whitespaces)] = (title, path, member.line)
        }
        return map
    }
}

/// Catalog entries from items' cleaned titles, the same title merged into one entry (interaction
/// logs and sample files alike).
struct CatalogAccumulator {
    var titles: [String] = []
    var sourceIDs: [[String]] = []
    var index: [String: Int32] = [:]
    var merged = 0

    /// The entry of `title` (new, or the existing one, `id` added to its source ids).
    mutating func add(id: String, title: String) -> Int32 {
        if let existing = index[title] {
            sourceIDs[Int(existing)].append(id)
            merged += 1
            return existing
        }
        let c = Int32(titles.count)
        index[title] = c
        titles.append(title)
        sourceIDs.append([id])
        return c
    }

    var catalog: Catalog { Catalog(titles: titles, sourceIDs: sourceIDs) }
}
