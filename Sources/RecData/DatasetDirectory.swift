// The on-disk form of a prepared dataset, written all at once or not at all:
//   dataset.json   how it was made (source files, format, options, prompt words): enough to repeat it
//   stats.json     counts (users, items, interactions, samples per split, duplicates merged, …)
//   catalog.jsonl  {"id": 0, "title": "Toy Story (1995)", "source_ids": ["1"]}, one per distinct title
//   train.jsonl / valid.jsonl / test.jsonl
//                  {"user": "196", "history": [12, 55], "target": 3, "timestamp": 881250949}
// Item numbers in samples are catalog ids. JSON lines so that pandas and jq read them as they are.
import Foundation
import Support

/// dataset.json: everything needed to repeat the preparation.
public struct DatasetManifest: Sendable, Codable, Equatable {
    public static let currentVersion = 1
    public var version = DatasetManifest.currentVersion
    public var source: DataSource
    public var encoding: TextEncoding
    public var options: BuildOptions
    public var prompt: PromptTemplate
    public var createdBy: String

    public init(source: DataSource, encoding: TextEncoding, options: BuildOptions, prompt: PromptTemplate) {
        self.source = source
        self.encoding = encoding
        self.options = options
        self.prompt = prompt
        createdBy = "llmrec \(LLMRecVersion.current)"
    }

    enum CodingKeys: String, CodingKey {
        case version, source, encoding, options, prompt
        case createdBy = "created_by"
    }
}

/// stats.json.
public struct DatasetStats: Sendable, Codable, Equatable {
    public var users: Int
    /// Source items with interactions (before duplicate titles are merged).
    public var items: Int
    /// Distinct titles: the catalog the model chooses from.
    public var catalogItems: Int
    public var duplicateTitlesMerged: Int
    public var interactions: Int
    public var samples: SplitCounts
    public var samplesBeforeSubsampling: SplitCounts
    public var usersWithoutSamples: Int
    public var untitledItemsDropped: Int
    public var raw: RawCounts
    public var meanHistoryLength: Double
    public var meanTitleCharacters: Double
    /// Response length in tokens (the quoted title plus EOS, as the item trie holds it), when
    /// `data prepare` is given a model whose tokenizer to use.
    public var responseTokens: TokenLengths?

    public struct TokenLengths: Sendable, Codable, Equatable {
        public var mean: Double, max: Int
        public var tokenizer: String
    }

    public struct SplitCounts: Sendable, Codable, Equatable {
        public var train: Int, valid: Int, test: Int
    }
    public struct RawCounts: Sendable, Codable, Equatable {
        public var users: Int, items: Int, interactions: Int
    }

    enum CodingKeys: String, CodingKey {
        case users, items, interactions, samples, raw
        case catalogItems = "catalog_items"
        case duplicateTitlesMerged = "duplicate_titles_merged"
        case samplesBeforeSubsampling = "samples_before_subsampling"
        case usersWithoutSamples = "users_without_samples"
        case untitledItemsDropped = "untitled_items_dropped"
        case meanHistoryLength = "mean_history_length"
        case meanTitleCharacters = "mean_title_characters"
        case responseTokens = "response_tokens"
    }

    public init(_ data: BuiltDataset) {
        let c = data.counts
        users = c.users
        items = c.items
        catalogItems = c.catalogItems
        duplicateTitlesMerged = c.duplicateTitlesMerged
        interactions = c.interactions
        samples = SplitCounts(train: data.train.count, valid: data.valid.count, test: data.test.count)
        samplesBeforeSubsampling = SplitCounts(
            train: c.trainBeforeSubsampling, valid: c.validBeforeSubsampling, test: c.testBeforeSubsampling)
        usersWithoutSamples = c.usersWithoutSamples
        untitledItemsDropped = c.untitledItemsDropped
        raw = RawCounts(users: c.rawUsers, items: c.rawItems, interactions: c.rawInteractions)
        let all = [data.train, data.valid, data.test].joined()
        let historyTotal = all.reduce(0) { $0 + $1.history.count }
        meanHistoryLength = all.isEmpty ? 0 : Double(historyTotal) / Double(all.count)
        let chars = data.catalog.titles.reduce(0) { $0 + $1.count }
        meanTitleCharacters = data.catalog.count == 0 ? 0 : Double(chars) / Double(data.catalog.count)
        responseTokens = nil
    }
}

public enum DatasetFile {
    public static let manifest = "dataset.json"
    public static let stats = "stats.json"
    public static let catalog = "catalog.jsonl"
    public static func split(_ name: SplitName) -> String { "\(name.rawValue).jsonl" }
}

public enum SplitName: String, Sendable, CaseIterable, Codable {
    case train, valid, test
}

public enum DatasetWriter {
    /// Writes the dataset directory atomically; an existing directory is replaced only when
    /// `replace`, and only when it is a dataset directory (it holds dataset.json) that is not
    /// one of the `inputs` or above them.
    public static func write(_ data: BuiltDataset, manifest: DatasetManifest, stats: DatasetStats, to url: URL, replace: Bool,
                             inputs: [String] = []) throws {
        try AtomicDirectory.write(to: url, replace: replace, rule: ReplaceRule(marker: DatasetFile.manifest, inputs: inputs)) { dir in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try writeFile(encoder.encode(manifest), dir.file(DatasetFile.manifest))
            try writeFile(encoder.encode(stats), dir.file(DatasetFile.stats))

            var out = JSONLinesWriter()
            for (id, title) in data.catalog.titles.enumerated() {
                out.raw("{\"id\":"); out.int(id)
                out.raw(",\"title\":"); out.string(title)
                out.raw(",\"source_ids\":[")
                for (k, s) in data.catalog.sourceIDs[id].enumerated() {
                    if k > 0 { out.raw(",") }
                    out.string(s)
                }
                out.raw("]}\n")
            }
            try writeFile(out.data, dir.file(DatasetFile.catalog))

            for (name, samples) in [(SplitName.train, data.train), (.valid, data.valid), (.test, data.test)] {
                var out = JSONLinesWriter()
                out.reserve(samples.count * 96)
                for s in samples {
                    out.raw("{\"user\":"); out.string(data.userNames[Int(s.user)])
                    out.raw(",\"history\":[")
                    for (k, h) in s.history.enumerated() {
                        if k > 0 { out.raw(",") }
                        out.int(Int(h))
                    }
                    out.raw("],\"target\":"); out.int(Int(s.target))
                    out.raw(",\"timestamp\":"); out.number(s.timestamp)
                    out.raw("}\n")
                }
                try writeFile(out.data, dir.file(DatasetFile.split(name)))
            }
        }
    }

    private static func writeFile(_ data: Data, _ url: URL) throws {
        do {
            try data.write(to: url)
        } catch {
            throw AtomicWriteError.cannotWrite(url.path, reason: error.localizedDescription)
        }
    }
}

/// Builds JSON text byte by byte: the samples files hold about a million lines and
/// JSONEncoder would make them the slowest step of `data prepare`.
struct JSONLinesWriter {
    private(set) var bytes: [UInt8] = []

    var data: Data { Data(bytes) }

    mutating func reserve(_ n: Int) { bytes.reserveCapacity(n) }

    mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func int(_ v: Int) {
        if v < 0 { bytes.append(0x2D) }
        var m = v.magnitude
        if m == 0 { bytes.append(0x30); return }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while m > 0 { d[n] = UInt8(0x30 + m % 10); m /= 10; n += 1 }
            for k in stride(from: n - 1, through: 0, by: -1) { bytes.append(d[k]) }
        }
    }

    /// Integral values as integers, others in Swift's shortest round-trip form.
    mutating func number(_ v: Double) {
        if v == v.rounded(), abs(v) < 9e15 { int(Int(v)) } else { bytes.append(contentsOf: v.description.utf8) }
    }

    mutating func string(_ s: String) {
        bytes.append(0x22)
        for c in s.utf8 {
            switch c {
            case 0x22: bytes.append(0x5C); bytes.append(0x22)
            case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
            case 0x0A: bytes.append(0x5C); bytes.append(0x6E)
            case 0x0D: bytes.append(0x5C); bytes.append(0x72)
            case 0x09: bytes.append(0x5C); bytes.append(0x74)
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 15)]])
            default: bytes.append(c)
            }
        }
        bytes.append(0x22)
    }
}
