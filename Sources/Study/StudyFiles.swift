// Where a study keeps what: small result files under DIR/results (committed), large ones under
// the runs directory (the prepared dataset, checkpoints, partial evaluations; never committed).
//
//   DIR/plan.json                          the plan the results belong to
//   DIR/results/study.json                 what every result shares (model, dataset, samples)
//   DIR/results/samples.json               the drawn sample indices
//   DIR/results/dataset.json               the prepared dataset's counts, IG's target counts
//   DIR/results/ig.json                    zero-IG share by position in the title
//   DIR/results/power-check.json           the pre-registered check's attempts
//   DIR/results/machines.json              the machines the study ran on
//   DIR/results/ARM/arm.json               the arm's effective training settings
//   DIR/results/ARM/training.json          steps, time, losses, best step
//   DIR/results/ARM/log.jsonl              the run's log (loss, lr, τ, validation)
//   DIR/results/ARM/DECODER.json           metrics, settings, time of one decoder
//   DIR/results/ARM/DECODER.tsv            per test window: draw position, target rank (-1: not listed), ranked ids
//   RUNS/data/                             the prepared dataset (all samples)
//   RUNS/ARM/                              the training run (checkpoints)
//   RUNS/ARM/DECODER.partial.tsv           an evaluation in progress
// Every result file is written whole (temporary file + rename), so a killed run leaves either
// the previous state or the new one, never half a result.
import Foundation
import Support

public struct StudyFiles: Sendable {
    public let directory: URL
    public let runs: URL

    public init(directory: URL, runs: URL? = nil) {
        self.directory = directory
        self.runs = runs ?? directory.appendingPathComponent("runs")
    }

    public var plan: URL { directory.appendingPathComponent("plan.json") }
    public var results: URL { directory.appendingPathComponent("results") }
    public var study: URL { results.appendingPathComponent("study.json") }
    public var samples: URL { results.appendingPathComponent("samples.json") }
    public var datasetSummary: URL { results.appendingPathComponent("dataset.json") }
    public var ig: URL { results.appendingPathComponent("ig.json") }
    public var powerCheck: URL { results.appendingPathComponent("power-check.json") }
    public var machines: URL { results.appendingPathComponent("machines.json") }
    public var data: URL { runs.appendingPathComponent("data") }

    public func arm(_ name: String) -> URL { results.appendingPathComponent(name) }
    public func armSettings(_ name: String) -> URL { arm(name).appendingPathComponent("arm.json") }
    public func training(_ name: String) -> URL { arm(name).appendingPathComponent("training.json") }
    public func log(_ name: String) -> URL { arm(name).appendingPathComponent("log.jsonl") }
    public func metrics(_ arm: String, _ decoder: String) -> URL { self.arm(arm).appendingPathComponent("\(decoder).json") }
    public func rankings(_ arm: String, _ decoder: String) -> URL { self.arm(arm).appendingPathComponent("\(decoder).tsv") }
    public func run(_ name: String) -> URL { runs.appendingPathComponent(name) }
    public func partial(_ arm: String, _ decoder: String) -> URL { run(arm).appendingPathComponent("\(decoder).partial.tsv") }
    /// Seconds spent training, carried across sittings.
    public func trainingClock(_ arm: String) -> URL { run(arm).appendingPathComponent("study-clock.json") }

    public func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }
}

/// JSON as every study file writes it: sorted keys, pretty, no escaped slashes, so that the
/// same content gives the same bytes.
enum StudyJSON {
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try encoder.encode(value) + Data("\n".utf8)
    }

    static func write<T: Encodable>(_ value: T, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try writeFileAtomically(encode(value), to: url)
    }

    static func read<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw StudyError.missing("\(url.path): cannot read it (\(error.localizedDescription))") }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do { return try decoder.decode(T.self, from: data) } catch {
            throw StudyError.damagedResult(file: url.path, message: "not the expected \(T.self) JSON (\(error))")
        }
    }
}

/// One evaluated test window as a line of DECODER.tsv: its position in the test draw, the
/// target's rank from 0 (-1 when not in the list), the ranked catalog ids.
public struct RankedSample: Sendable, Equatable {
    public var position: Int
    public var target: Int
    public var rank: Int?
    public var items: [Int]
    /// Decoding seconds charged to this sample (its batch's time shared out); partial files only.
    public var seconds: Double = 0

    public init(position: Int, target: Int, rank: Int?, items: [Int], seconds: Double = 0) {
        self.position = position
        self.target = target
        self.rank = rank
        self.items = items
        self.seconds = seconds
    }

    func line(withSeconds: Bool) -> String {
        var fields = ["\(position)", "\(target)", "\(rank ?? -1)", items.map(String.init).joined(separator: " ")]
        if withSeconds { fields.append(String(format: "%.6f", seconds)) }
        return fields.joined(separator: "\t")
    }

    static func parse(_ line: Substring, withSeconds: Bool) -> RankedSample? {
        let f = line.split(separator: "\t", omittingEmptySubsequences: false)
        guard f.count == (withSeconds ? 5 : 4), let p = Int(f[0]), let t = Int(f[1]), let r = Int(f[2]), r >= -1 else { return nil }
        var items: [Int] = []
        for x in f[3].split(separator: " ") {
            guard let v = Int(x) else { return nil }
            items.append(v)
        }
        let seconds = withSeconds ? Double(f[4]) : 0
        guard let seconds else { return nil }
        return RankedSample(position: p, target: t, rank: r < 0 ? nil : r, items: items, seconds: seconds)
    }

    static let header = "position\ttarget\trank\titems"

    /// Writes a whole rankings file.
    static func write(_ samples: [RankedSample], to url: URL) throws {
        let text = ([header] + samples.map { $0.line(withSeconds: false) }).joined(separator: "\n") + "\n"
        try writeFileAtomically(Data(text.utf8), to: url)
    }

    /// Reads a rankings file, naming the line that does not parse.
    public static func read(_ url: URL) throws -> [RankedSample] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch { throw StudyError.missing("\(url.path): cannot read it") }
        var out: [RankedSample] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if i == 0 {
                guard line == header else { throw StudyError.damagedResult(file: url.path, message: "line 1 is not the header '\(header)'") }
                continue
            }
            if line.isEmpty { continue }
            guard let s = parse(line, withSeconds: false), s.position == out.count else {
                throw StudyError.damagedResult(file: url.path, message: "line \(i + 1) is not 'position target rank items' for window \(out.count)")
            }
            out.append(s)
        }
        return out
    }

    /// The complete lines of a partial evaluation (a line cut by a kill is dropped).
    static func readPartial(_ url: URL) -> [RankedSample] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        var out: [RankedSample] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // The last piece is whole only when the file ends with a newline (then it is empty).
        for line in lines.dropLast() {
            guard let s = parse(line, withSeconds: true), s.position == out.count else { break }
            out.append(s)
        }
        return out
    }

    /// Appends lines to a partial evaluation.
    static func append(_ samples: [RankedSample], to url: URL) throws {
        let data = Data(samples.map { $0.line(withSeconds: true) + "\n" }.joined().utf8)
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw AtomicWriteError.cannotWrite(url.path, reason: "cannot create the file")
            }
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: data)
    }
}
