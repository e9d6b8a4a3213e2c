// Which files a dataset comes from and in which format: from an alias of the embedded
// default (`ml-1m`, `ml-100k`), a directory, or a file, with the format named or detected.
// Reading is delegated to one reader per format.
import Foundation
import Support

public enum DataFormat: String, Sendable, CaseIterable, Codable {
    case auto
    case movielens100k = "movielens-100k"
    case movielens1m = "movielens-1m"
    case recbole
    case amazon2018 = "amazon-2018"
    case amazon2023 = "amazon-2023"
    case csv
    case d3
    case bigrec

    /// Formats whose files are ready-made samples, one file per split (SampleFileReader).
    public var isSampleFiles: Bool { self == .d3 || self == .bigrec }

    /// What the format's files look like, for help and error messages.
    public var files: String {
        switch self {
        case .auto: return "detected from the file names and contents"
        case .movielens100k: return "u.data + u.item (GroupLens MovieLens 100K)"
        case .movielens1m: return "ratings.dat + movies.dat (GroupLens MovieLens 1M)"
        case .recbole: return "NAME.inter + NAME.item (RecBole atomic files)"
        case .amazon2018: return "reviews JSON lines + meta_*.json (Amazon Reviews 2018)"
        case .amazon2023: return "reviews JSON lines + meta_*.jsonl (Amazon Reviews 2023)"
        case .csv: return "user,item,timestamp CSV/TSV + item,title CSV/TSV"
        case .d3: return "--train/--valid/--test CSVs of samples with history_item_id, history_item_title, item_id, item_title (D3, LLM4Rec-IGD)"
        case .bigrec: return "--train/--valid/--test CSVs of samples with item_ids, the last the target, + --items id → title JSON (BIGRec, MSL)"
        }
    }
}

/// A resolved dataset: format and the two files to read.
public struct DataSource: Sendable, Codable, Equatable {
    public var format: DataFormat
    public var interactions: String
    public var items: String
    /// The alias it was resolved from, if any.
    public var alias: String?
    /// For sample-file formats: one file per split (`interactions` is then the training file,
    /// `items` the title map or empty).
    public var splits: SplitFiles?

    public init(format: DataFormat, interactions: String, items: String, alias: String? = nil, splits: SplitFiles? = nil) {
        self.format = format
        self.interactions = interactions
        self.items = items
        self.alias = alias
        self.splits = splits
    }

    /// Sample files of `format` (d3 or bigrec), with the title map `items` where the format needs one.
    public static func sampleFiles(_ format: DataFormat, splits: SplitFiles, items: String?) throws -> DataSource {
        for path in [splits.train, splits.test] + [splits.valid, items].compactMap({ $0 }) where !FileManager.default.fileExists(atPath: path) {
            throw DataError.fileMissing(path: path, hint: "Give the split files with --train, --test (and --valid), the title map with --items.")
        }
        if format == .bigrec, items == nil {
            throw DataError.badOption("--format bigrec needs the title map (a JSON object from item id to title, such as MSL's id2name4Rec.json) with --items")
        }
        return DataSource(format: format, interactions: splits.train, items: items ?? "", splits: splits)
    }

    /// Every file the source reads.
    public var inputs: [String] {
        guard let splits else { return [interactions, items] }
        return [splits.train, splits.test] + [splits.valid, items.isEmpty ? nil : items].compactMap { $0 }
    }

    /// Resolves `dataset` (an alias, a directory or an interactions file) and an optional
    /// items file into concrete files and a format.
    public static func resolve(dataset: String, items: String?, format: DataFormat) throws -> DataSource {
        if let entry = Assets.datasets.first(where: { $0.alias == dataset }),
            !FileManager.default.fileExists(atPath: dataset)
        {
            let inter = try Assets.require(entry)
            let item = inter.deletingPathExtension().appendingPathExtension("item")
            return DataSource(format: .recbole, interactions: inter.path, items: item.path, alias: entry.alias)
        }
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: dataset, isDirectory: &isDirectory) else {
            let aliases = Assets.datasets.map(\.alias).joined(separator: ", ")
            throw DataError.fileMissing(path: dataset, hint: "Give a data file or directory, or one of the aliases \(aliases).")
        }
        if isDirectory.boolValue {
            return try resolveDirectory(URL(fileURLWithPath: dataset), items: items, format: format)
        }
        let url = URL(fileURLWithPath: dataset)
        let detected = format == .auto ? try detect(file: url) : format
        let itemsPath = try items ?? defaultItemsFile(for: url, format: detected)
        return DataSource(format: detected, interactions: url.path, items: itemsPath)
    }

    private static func resolveDirectory(_ dir: URL, items: String?, format: DataFormat) throws -> DataSource {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.sorted() ?? []
        let pick: String?
        switch format {
        case .movielens100k: pick = "u.data"
        case .movielens1m: pick = "ratings.dat"
        case .recbole: pick = names.first { $0.hasSuffix(".inter") }
        case .auto:
            pick = names.contains("u.data") ? "u.data"
                : names.contains("ratings.dat") ? "ratings.dat"
                : names.first { $0.hasSuffix(".inter") }
        case .amazon2018, .amazon2023, .csv, .d3, .bigrec: pick = nil
        }
        guard let pick else {
            throw DataError.unknownFormat(
                path: dir.path,
                expected: "a directory with u.data (MovieLens 100K), ratings.dat (MovieLens 1M) or a .inter file (RecBole); "
                    + "for Amazon and CSV data give the interactions file itself")
        }
        return try resolve(dataset: dir.appendingPathComponent(pick).path, items: items, format: format)
    }

    /// Detects the format of an interactions file from its name, or for JSON lines from the keys of its first object.
    static func detect(file: URL) throws -> DataFormat {
        let name = file.lastPathComponent.lowercased()
        if name == "u.data" { return .movielens100k }
        if name == "ratings.dat" { return .movielens1m }
        if name.hasSuffix(".inter") { return .recbole }
        if name.hasSuffix(".csv") || name.hasSuffix(".tsv") || name.hasSuffix(".tab") { return .csv }
        if name.hasSuffix(".json") || name.hasSuffix(".jsonl") {
            let text = try TextFile(path: file.path, encoding: .utf8)
            var firstLine = ""
            text.forEachLine { _, line in
                if line.isEmpty { return true }
                firstLine = text.string(line)
                return false
            }
            if firstLine.contains("\"reviewerID\"") { return .amazon2018 }
            if firstLine.contains("\"parent_asin\"") || firstLine.contains("\"user_id\"") { return .amazon2023 }
        }
        throw DataError.unknownFormat(path: file.path, expected: DataFormat.allCases.dropFirst().map(\.files).joined(separator: "; "))
    }

    /// The items file that goes with an interactions file by the format's naming convention.
    static func defaultItemsFile(for file: URL, format: DataFormat) throws -> String {
        let dir = file.deletingLastPathComponent()
        let candidates: [String]
        switch format {
        case .movielens100k: candidates = ["u.item"]
        case .movielens1m: candidates = ["movies.dat"]
        case .recbole: candidates = [file.deletingPathExtension().lastPathComponent + ".item"]
        case .amazon2018, .amazon2023:
            // Books_5.json → meta_Books.json; Books.jsonl → meta_Books.jsonl
            let stem = file.deletingPathExtension().lastPathComponent
            let base = stem.hasSuffix("_5") ? String(stem.dropLast(2)) : stem
            candidates = ["meta_\(base).\(file.pathExtension)", "meta_\(base).json", "meta_\(base).jsonl"]
        case .csv, .auto, .d3, .bigrec: candidates = []
        }
        for c in candidates where FileManager.default.fileExists(atPath: dir.appendingPathComponent(c).path) {
            return dir.appendingPathComponent(c).path
        }
        let expected = candidates.isEmpty ? "an items file" : candidates.map { dir.appendingPathComponent($0).path }.joined(separator: " or ")
        throw DataError.fileMissing(path: expected, hint: "Pass the item titles file with --items.")
    }

    /// The item nouns and verb of the prompt when the user does not name them: "movies …
    /// watched" for MovieLens (original files, or RecBole files named ml-*), "items … interacted
    /// with" otherwise.
    public var defaultVocabulary: PromptVocabulary {
        switch format {
        case .movielens100k, .movielens1m: return .movies
        case .recbole where URL(fileURLWithPath: interactions).lastPathComponent.hasPrefix("ml-"): return .movies
        default: return .items
        }
    }

    /// Reads the interactions and titles.
    public func read(encoding: TextEncoding = .auto) throws -> InteractionLog {
        switch format {
        case .movielens100k: return try MovieLensReader.read100K(ratings: interactions, items: items, encoding: encoding)
        case .movielens1m: return try MovieLensReader.read1M(ratings: interactions, items: items, encoding: encoding)
        case .recbole: return try RecBoleReader.read(inter: interactions, item: items, encoding: encoding)
        case .amazon2018: return try AmazonReader.read(.v2018, reviews: interactions, meta: items)
        case .amazon2023: return try AmazonReader.read(.v2023, reviews: interactions, meta: items)
        case .csv: return try DelimitedReader.read(interactions: interactions, items: items, encoding: encoding)
        case .d3, .bigrec: preconditionFailure("sample files are read by SampleFileReader (DatasetPreparation)")
        case .auto: preconditionFailure("resolve() replaces .auto by a concrete format")
        }
    }
}
